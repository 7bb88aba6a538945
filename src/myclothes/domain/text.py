"""Text as the shop trims it, spelled out for patterns that must mean the same in every regex dialect."""

from __future__ import annotations

# The characters ``str.strip()`` removes (``str.isspace()``), written out: ``\s`` differs between Python's ``re`` and
# JSON Schema's ECMA-262 regexes (U+001C..U+001F, U+0085, U+FEFF), so patterns in the API's document use this class.
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
SPACE = f"[{WHITESPACE}]"
# No text the shop keeps or looks up holds U+0000: PostgreSQL cannot store it (SQLite could; the rule is the same).
NO_NUL = r"^[^\x00]*$"
NOT_SPACE = rf"[^{WHITESPACE}\x00]"  # a visible character
