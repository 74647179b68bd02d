"""Model output is untrusted: keep it from reaching the terminal as control sequences.

Removes C0 controls except newline and tab, DEL, C1 controls (U+0080–U+009F, which
include the 8-bit CSI and OSC), and bidirectional override/isolate controls that can
make text read differently from what it is; lone UTF-16 surrogates become U+FFFD.
Character by character, so it is safe to apply to each streamed fragment on its own.
"""

from __future__ import annotations

_REMOVED = (
    [c for c in range(0x00, 0x20) if c not in (0x09, 0x0A)]
    + [0x7F]
    + list(range(0x80, 0xA0))
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
)
# A lone surrogate (JSON can carry one as "\ud83d") cannot be encoded to send back.
_SURROGATES: dict[int, str | None] = dict.fromkeys(range(0xD800, 0xE000), "\ufffd")
_TABLE: dict[int, str | None] = dict.fromkeys(_REMOVED) | _SURROGATES


def without_surrogates(text: str) -> str:
    """`text` with each lone UTF-16 surrogate replaced by U+FFFD."""
    return text.translate(_SURROGATES)


def clean(text: str) -> str:
    """`text` without any character a terminal would act on."""
    return text.translate(_TABLE)
