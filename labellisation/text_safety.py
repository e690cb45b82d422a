"""Text people typed, kept from terminals (#18 item 5): control characters refused at the door, shown when printed.

An ESC (`\\x1b`) starts ANSI and OSC-8 sequences that recolour a terminal, rewrite its title or hide a link; the
bidirectional overrides reorder what a reader sees. The API refuses them in what people send (`refuse_control_
characters`, line breaks and tabs allowed); the command line prints any already stored as visible escapes
(`visible`), so an old comment cannot act on the coordinator's terminal either.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rich.markup import escape

#: Kept: they lay text out and do nothing else.
_LAYOUT = frozenset("\n\r\t")
#: Unicode's bidirectional embeddings, overrides and isolates (format characters that reorder a line).
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _hostile(char: str) -> bool:
    return (unicodedata.category(char) == "Cc" and char not in _LAYOUT) or char in _BIDI


def visible(text: str) -> str:
    """`text` with each control character written out (`\\x1b`, `\\u202e`): printed, it is only text."""
    if not any(_hostile(c) for c in text):
        return text
    return "".join((f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}") if _hostile(c) else c for c in text)


def refuse_control_characters(data: Any, where: str = "") -> None:
    """ValueError naming the first field (dotted path) of `data` (dicts, lists, strings) holding a control
    character, and which one."""
    if isinstance(data, str):
        found = next((c for c in data if _hostile(c)), None)
        if found is not None:
            name = f"{where} : " if where else ""
            raise ValueError(f"{name}caractère de contrôle interdit (U+{ord(found):04X})")
    elif isinstance(data, dict):
        for key, value in data.items():
            refuse_control_characters(value, f"{where}.{key}" if where else str(key))
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            refuse_control_characters(value, f"{where}.{index}" if where else str(index))


def for_terminal(text: str) -> str:
    """`text` to print with Rich: control characters written out (`visible`), and Rich markup (`[bold]`, `[/x]`)
    escaped, so a name or a comment is printed as typed and never acts on the terminal."""
    return escape(visible(text))
