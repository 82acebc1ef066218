"""Server text made safe for text/plain output: one visible line, nothing that moves the cursor.

Names, descriptions and error messages come from the server (or another user). Printed raw, a
newline in a description forges a line of output, an ANSI escape recolours or erases it, and a
bidi override reorders it. :func:`visible` shows such characters as escapes instead.
"""

from __future__ import annotations

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}
# Control (Cc), format (Cf: bidi overrides and isolates, zero-width marks) and separators (Zl, Zp).
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(value: object) -> str:
    """``str(value)`` with every control, format and line-separator character escaped.

    The result is a single line whose characters all print as themselves: ``"a\\nb"`` becomes
    ``a\\nb`` (a backslash and an ``n``), ESC becomes ``\\x1b``, U+202E becomes ``\\u202e``.
    Ordinary text, including CJK and emoji, is unchanged.
    """
    text = str(value)
    if text.isprintable():  # the common case: nothing to escape
        return text
    return "".join(_escape(c) if unicodedata.category(c) in _ESCAPED_CATEGORIES else c for c in text)
