"""A lexer state's rules that can match where the text has a given character.

Pygments' `RegexLexer` tries a state's rules in order at each token until one matches:
about 35 tries a token in Python's root state (`growing_code._lex`: 850 regex calls to
lex two lines of code, a third of a code reply's drawing). A rule whose pattern must
begin with a character other than the one at the position can never match there, so
trying only the others, in the same order, gives the same first match: the same tokens.

What a pattern may begin with is read from its parse (`re._parser`, CPython's own), and
errs on the side of "may": a pattern that can match the empty string, a character set
in a case-insensitive pattern, a back-reference or anything not understood here keeps
its rule for every character. Zero-width assertions (`^`, `\\b`, look-arounds) are
passed over: they only forbid more.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

sre: Any
sre_parse: Any
try:  # CPython 3.11+: the parser `re` compiles with (`sre_parse` before)
    sre = importlib.import_module("re._constants")
    sre_parse = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover (another Python: every rule kept)
    sre = sre_parse = None

CHARS_KEPT = 2048
"""Characters whose rules a state keeps (a reply's code and strings use a few hundred)."""

Rule = tuple[Any, ...]
"""(match, action, new state): one of a compiled state's rules (Pygments 2.21)."""

Admits = Callable[[str], bool]
"""Whether a rule may match where the text has this character."""


def _always(_: str) -> bool:
    return True


def _category(code: Any, flags: int) -> Admits:
    # Written back as the class it came from (`\\s`, `\\w`, ...), compiled with the
    # pattern's own ASCII flag: a character is in it as `re` itself decides.
    names = {
        sre.CATEGORY_DIGIT: r"\d",
        sre.CATEGORY_NOT_DIGIT: r"\D",
        sre.CATEGORY_SPACE: r"\s",
        sre.CATEGORY_NOT_SPACE: r"\S",
        sre.CATEGORY_WORD: r"\w",
        sre.CATEGORY_NOT_WORD: r"\W",
    }
    source = names.get(code)
    if source is None:
        return _always
    match = re.compile(source, flags & re.ASCII).match
    return lambda c: match(c) is not None


def _literal(code: int) -> Admits:
    return lambda c: ord(c) == code


def _range(low: int, high: int) -> Admits:
    return lambda c: low <= ord(c) <= high


def _in(items: list[tuple[Any, Any]], flags: int) -> Admits:
    """A character set (`[...]`): its members."""
    negate = bool(items) and items[0][0] is sre.NEGATE
    tests: list[Admits] = []
    for op, arg in items[1:] if negate else items:
        if op is sre.LITERAL:
            tests.append(_literal(arg))
        elif op is sre.RANGE:
            tests.append(_range(*arg))
        elif op is sre.CATEGORY:
            tests.append(_category(arg, flags))
        else:
            return _always
    if negate:
        return lambda c: not any(test(c) for test in tests)
    return lambda c: any(test(c) for test in tests)


class _First:
    """What a piece of pattern may start with: `consumes(c)`, whether it may begin by
    matching `c`; `empty`, whether it may match nothing."""

    def __init__(self, consumes: Admits, empty: bool) -> None:
        self.consumes = consumes
        self.empty = empty


_ANY = _First(_always, True)
_EMPTY = _First(lambda _: False, True)
"""What matches nothing but the empty string (a zero-width assertion, `{0}`)."""


def _sequence(items: Sequence[tuple[Any, Any]], flags: int) -> _First:
    firsts: list[Admits] = []
    for item in items:
        first = _item(item, flags)
        firsts.append(first.consumes)
        if not first.empty:
            return _First(_any_of(firsts), False)
    return _First(_any_of(firsts), True)


def _any_of(tests: list[Admits]) -> Admits:
    if any(test is _always for test in tests):
        return _always
    if len(tests) == 1:
        return tests[0]
    return lambda c: any(test(c) for test in tests)


def _item(item: tuple[Any, Any], flags: int) -> _First:
    op, arg = item
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return _EMPTY  # zero-width: nothing consumed
    if flags & re.IGNORECASE and op in (sre.LITERAL, sre.NOT_LITERAL, sre.IN):
        return _First(_always, False)  # (case folding has Unicode surprises: K, k, K)
    if op is sre.LITERAL:
        return _First(_literal(arg), False)
    if op is sre.NOT_LITERAL:
        return _First(lambda c: ord(c) != arg, False)
    if op is sre.ANY:
        return _First(_always, False)
    if op is sre.IN:
        return _First(_in(arg, flags), False)
    if op is sre.BRANCH:
        branches = [_sequence(branch, flags) for branch in arg[1]]
        return _First(_any_of([b.consumes for b in branches]), any(b.empty for b in branches))
    if op is sre.SUBPATTERN:
        _, add, remove, body = arg
        return _sequence(body, (flags | add) & ~remove)
    if op is sre.ATOMIC_GROUP:
        return _sequence(arg, flags)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, high, body = arg
        if high == 0:
            return _EMPTY
        inner = _sequence(body, flags)
        return _First(inner.consumes, low == 0 or inner.empty)
    return _ANY  # back-references and the rest: may be anything


def admits(pattern: re.Pattern[str]) -> Admits:
    """For a compiled pattern: whether it may match at a position holding `c` (never
    False where `pattern.match(text, pos)` could succeed with `text[pos] == c`)."""
    if sre_parse is None or not isinstance(pattern.pattern, str):
        return _always
    try:
        first = _sequence(list(sre_parse.parse(pattern.pattern, pattern.flags)), pattern.flags)
    except Exception:  # a pattern not understood here: tried everywhere, as Pygments does
        return _always
    return _always if first.empty else first.consumes


class FirstChars:
    """Each state's rules by the character at the position, built as characters come."""

    def __init__(self) -> None:
        self._admits: dict[object, Admits] = {}  # by the rule's pattern
        self._states: dict[int, tuple[list[Rule], dict[str, tuple[Rule, ...]]]] = {}

    def rules(self, state: list[Rule]) -> dict[str, tuple[Rule, ...]]:
        """`state`'s rules by character (filled by `pick`)."""
        found = self._states.get(id(state))
        if found is None or found[0] is not state:
            found = self._states[id(state)] = (state, {})
        return found[1]

    def learn(self, states: Iterable[list[Rule]]) -> None:
        """Read every rule's pattern now (about 7 ms for Python's lexer), not at the first
        character it is tried at (`growing_code.warm`, off the main thread at start-up)."""
        for state in states:
            for rule in state:
                self._admit(rule[0])

    def pick(
        self, state: list[Rule], by_char: dict[str, tuple[Rule, ...]], c: str
    ) -> tuple[Rule, ...]:
        """`state`'s rules that may match at `c`, in their order; kept in `by_char`."""
        rules = tuple(rule for rule in state if self._admit(rule[0])(c))
        if len(by_char) >= CHARS_KEPT:  # (text from a model: any characters at all)
            by_char.clear()
        by_char[c] = rules
        return rules

    def _admit(self, match: Any) -> Admits:
        pattern = getattr(match, "__self__", None)  # (a rule's `re.compile(...).match`)
        if not isinstance(pattern, re.Pattern):
            return _always
        test = self._admits.get(pattern)
        if test is None:
            test = self._admits[pattern] = admits(pattern)
        return test
