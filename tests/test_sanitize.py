from hypothesis import given
from hypothesis import strategies as st

from ollama_tui.core.sanitize import clean


def test_escape_sequences_lose_their_escape() -> None:
    hostile = "a\x1b]52;c;aGk=\x07b\x1b[31mred\x9b2Jc\u202eevil\u2066x\r\n\tend"
    assert clean(hostile) == "a]52;c;aGk=b[31mred2Jcevilx\n\tend"


def test_ordinary_text_is_untouched() -> None:
    text = "Hello, 世界 🦙 — `code`\n\t[red]x[/red] é"
    assert clean(text) == text


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    out = clean(text)
    assert all(ch in "\n\t" or not (ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0) for ch in out)
    assert not any(0x202A <= ord(ch) <= 0x202E or 0x2066 <= ord(ch) <= 0x2069 for ch in out)
