"""ECMA-262 patterns as RE2 patterns, where the two mean exactly the same.

JSON Schema's ``pattern`` is an ECMA-262 regular expression (with the ``u`` flag: code
points); pyarrow's ``match_substring_regex`` is RE2. :func:`to_re2` translates the part of
ECMA-262 whose meaning it can state exactly in RE2 — literals, ``.``, classes of literal
characters and ranges, ``\\d \\w \\s`` and their negations, groups, alternation, greedy and
lazy quantifiers, ``^`` and ``$`` — spelling every construct out so that no default of
either engine matters (``^``/``$`` become ``\\A``/``\\z``: ECMA's ``$`` never matches before a
final newline; ``.`` excludes exactly ECMA's line terminators; ``\\s`` is ECMA's white
space, not RE2's ASCII one). Anything else (back-references, look-arounds, ``\\b``,
``\\p{…}``, named groups, repetition counts over RE2's limit) gives ``None``: the ECMA
engine (``regress``) decides those values, one distinct value at a time.
"""

from __future__ import annotations

from typing import Final

_SYNTAX: Final = frozenset("^$\\.*+?()[]{}|/")
# ECMA-262 WhiteSpace and LineTerminator: what \s matches.
_SPACE: Final = (
    "\\x{9}-\\x{d}\\x{20}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}"
    "\\x{205f}\\x{3000}\\x{feff}"
)
_CLASSES: Final = {"d": "0-9", "w": "0-9A-Za-z_", "s": _SPACE}
_DOT: Final = "[^\\x{a}\\x{d}\\x{2028}\\x{2029}]"
_CONTROL: Final = {"t": 9, "n": 10, "v": 11, "f": 12, "r": 13}
_MAX_REPEAT: Final = 1000  # RE2's limit on a counted repetition


class _Unsupported(Exception):
    pass


def _char(cp: int) -> str:
    return f"\\x{{{cp:x}}}"


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.s = pattern
        self.i = 0

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def take(self) -> str:
        ch = self.peek()
        if not ch:
            raise _Unsupported
        self.i += 1
        return ch

    def disjunction(self) -> str:
        parts = [self.alternative()]
        while self.peek() == "|":
            self.i += 1
            parts.append(self.alternative())
        return "|".join(parts)

    def alternative(self) -> str:
        out: list[str] = []
        while self.peek() not in ("", "|", ")"):
            out.append(self.term())
        return "".join(out)

    def term(self) -> str:
        ch = self.peek()
        if ch == "^":
            self.i += 1
            return "\\A"
        if ch == "$":
            self.i += 1
            return "\\z"
        atom = self.atom()
        return atom + self.quantifier()

    def quantifier(self) -> str:
        ch = self.peek()
        if ch in ("*", "+", "?"):
            self.i += 1
        elif ch == "{":
            start = self.i
            end = self.s.find("}", start)
            if end < 0:
                raise _Unsupported
            body = self.s[start + 1 : end]
            lo, comma, hi = body.partition(",")
            if not lo.isdigit() or not lo.isascii() or (hi and not (hi.isdigit() and hi.isascii())):
                raise _Unsupported
            if (
                int(lo) > _MAX_REPEAT
                or (hi and int(hi) > _MAX_REPEAT)
                or (hi and int(hi) < int(lo))
            ):
                raise _Unsupported
            self.i = end + 1
            ch = "{" + str(int(lo)) + (comma + (str(int(hi)) if hi else "")) + "}"
        else:
            return ""
        if self.peek() == "?":  # lazy: the same set of matches for a search
            self.i += 1
            ch += "?"
        if self.peek() in ("*", "+", "?", "{"):
            raise _Unsupported
        return ch

    def atom(self) -> str:
        ch = self.take()
        if ch == ".":
            return _DOT
        if ch == "(":
            if self.peek() == "?":
                if self.s[self.i : self.i + 2] != "?:":
                    raise _Unsupported  # look-arounds, named groups
                self.i += 2
            inner = self.disjunction()
            if self.take() != ")":
                raise _Unsupported
            return f"(?:{inner})"
        if ch == "[":
            return self.char_class()
        if ch == "\\":
            return self.escape(in_class=False)
        if ch in _SYNTAX and ch != "/":
            raise _Unsupported  # a lone ) ] { } or a quantifier without an atom
        return _char(ord(ch))

    def escape(self, *, in_class: bool) -> str:
        ch = self.take()
        if ch in _CLASSES:
            return _CLASSES[ch] if in_class else f"[{_CLASSES[ch]}]"
        if ch in ("D", "W", "S") and not in_class:
            return f"[^{_CLASSES[ch.lower()]}]"
        if ch in _CONTROL:
            return _char(_CONTROL[ch])
        if ch == "0" and not self.peek().isdigit():
            return _char(0)
        if ch == "x":
            digits = self.s[self.i : self.i + 2]
            if len(digits) == 2 and all(c in "0123456789abcdefABCDEF" for c in digits):
                self.i += 2
                return _char(int(digits, 16))
            raise _Unsupported
        if ch == "u":
            return _char(self.unicode_escape())
        if ch in _SYNTAX or (in_class and ch == "-"):
            return _char(ord(ch))
        raise _Unsupported  # \b \B \p \k back-references, \c

    def unicode_escape(self) -> int:
        hexdigits = "0123456789abcdefABCDEF"
        if self.peek() == "{":
            end = self.s.find("}", self.i)
            body = self.s[self.i + 1 : end] if end > 0 else ""
            if not body or not all(c in hexdigits for c in body) or int(body, 16) > 0x10FFFF:
                raise _Unsupported
            self.i = end + 1
            return int(body, 16)
        digits = self.s[self.i : self.i + 4]
        if len(digits) != 4 or not all(c in hexdigits for c in digits):
            raise _Unsupported
        self.i += 4
        cp = int(digits, 16)
        if 0xD800 <= cp <= 0xDFFF:
            raise _Unsupported  # surrogate pairs: leave them to the ECMA engine
        return cp

    def class_atom(self) -> tuple[str, int | None]:
        """One class member: its RE2 text and, for a single character, its code point."""
        ch = self.take()
        if ch == "\\":
            nxt = self.peek()
            text = self.escape(in_class=True)
            if nxt in _CLASSES:
                return text, None
            return text, int(text[3:-1], 16)
        return _char(ord(ch)), ord(ch)

    def char_class(self) -> str:
        negate = self.peek() == "^"
        if negate:
            self.i += 1
        items: list[str] = []
        while self.peek() != "]":
            if not self.peek():
                raise _Unsupported
            text, lo = self.class_atom()
            if self.peek() == "-" and self.s[self.i + 1 : self.i + 2] not in ("]", ""):
                self.i += 1
                text_hi, hi = self.class_atom()
                if lo is None or hi is None or hi < lo:
                    raise _Unsupported
                items.append(f"{text}-{text_hi}")
            else:
                items.append(text)
        self.i += 1
        if not items:
            raise _Unsupported  # [] and [^]: nothing / anything, not written alike in RE2
        return ("[^" if negate else "[") + "".join(items) + "]"


def to_re2(pattern: str) -> str | None:
    """``pattern`` (ECMA-262, ``u`` flag) as an RE2 pattern with the same matches, or
    ``None`` when it uses a construct this translation does not state exactly."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in pattern):
        return None
    parser = _Parser(pattern)
    try:
        out = parser.disjunction()
    except _Unsupported:
        return None
    if parser.i != len(pattern):
        return None  # a ")" without its "("
    return out
