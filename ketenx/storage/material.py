"""Key material recognised in text: whether a string given where a path, a name or an
option value belongs is a secret, a key or an age identity (:func:`looks_like_key_material`,
:func:`unmistakably_key_material`), and a message with any such text withheld
(:func:`withhold_key_material`), the last line of defence before stderr (docs/keys.md).
Pure: imports nothing of ketenx but the kx1 token prefixes."""

from __future__ import annotations

import itertools
import os
import re

from ..kx1 import PREFIXES

# Key material pasted where a path belongs. Unmistakable markers (any case): a PEM armour
# line, an age identity, a ketenx secret line or key id, an age recipient. Otherwise a run of
# 32 or more base64 or hex characters (a 32-byte secret is 43/44 base64 or 64 hex characters;
# a PEM body line is 64) whose character classes change as often as random text does, which
# the words of a file path do not.
_KEY_MARKERS = re.compile(
    r"-----(BEGIN|END)[ A-Z0-9]*-----|(?-i:PRIVATE KEY)|AGE-SECRET-KEY-1|"
    r"(?-i:KETENX-SECRET-1)|kx1k_[0-9a-f]{16}|"
    # base64 of DER headers: Ed25519 PKCS#8 and SubjectPublicKeyInfo, the PKCS OIDs
    # (PBES2 of an encrypted key; rsaEncryption): a PEM body line, however regular its key
    r"(?-i:MC4CAQAwBQYDK2Vw|MCowBQYDK2Vw|GCSqGSIb3DQE|BgkqhkiG9w0B)|\bage1[02-9ac-hj-np-z]{50,}",
    re.IGNORECASE,
)


_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_=-]{32,}")


# A word of a name: lower case, Capitalised or CamelCase (digits at its end), digits, or a
# short run of lower-case hex (the parts of a UUID).
_WORD = re.compile(r"[A-Z]?[a-z]{1,24}(?:[A-Z][a-z]{1,24})*[0-9]*|[0-9]+|[0-9a-f]{1,12}")


_HEX_RUN = re.compile(r"[0-9A-Fa-f]{32,}")


def looks_like_key_material(text: str | os.PathLike[str]) -> bool:
    """Whether ``text`` (given where a path belongs) looks like key material rather than a
    path: a PEM block or one of its lines, an age identity or recipient, a secret-file line,
    a key id, 32 or more hex digits, or a run of 32 or more base64 characters that looks
    random. Such text is never repeated in a message (docs/keys.md)."""
    text = os.fspath(text)
    if unmistakably_key_material(text) or _HEX_RUN.search(text):
        return True
    return any(_looks_random(run.group()) for run in _BASE64_RUN.finditer(text))


_SECRET_SPANS = re.compile(
    r"-----(?:BEGIN|END)[ A-Z0-9]*-----|AGE-SECRET-KEY-1[0-9A-Z]*|KETENX-SECRET-1\s*\S*",
    re.IGNORECASE,
)


_TOKEN = re.compile(r"[^\s`'\"/\\,;:()\[\]{}<>|=]+")


WITHHELD = "<withheld: looks like key material>"


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def withhold_key_material(text: str) -> str:
    """``text`` (a message about to be shown) with anything that looks like key material
    replaced: PEM armour, age identities, secret lines, and tokens of 32 or more hex digits
    or random-looking base64 (a secret's bytes pasted as a name). The last line of defence
    for every message ketenx writes to stderr: whatever a message quotes (a name from a
    document, a path, an option value), key material in it is not repeated. Key ids
    (``kx1k_`` and 16 hex digits), digests and delivery ids (a UUID in its canonical
    lower-case form) are public and stay."""
    text = _SECRET_SPANS.sub(WITHHELD, text)

    def one(match: re.Match[str]) -> str:
        token = match.group()
        if len(token) < 32 or token.startswith((*PREFIXES, "sha256")):
            return token
        if _UUID.fullmatch(token):  # a delivery id: random, public, signed
            return token
        if _HEX_RUN.fullmatch(token) or (_BASE64_RUN.search(token) and _looks_random(token)):
            return WITHHELD
        return token

    return _TOKEN.sub(one, text)


def unmistakably_key_material(text: str) -> bool:
    """Whether ``text`` holds a PEM armour line, an age identity or recipient, a ketenx secret
    line or key id: never part of a path or any other argument ketenx takes."""
    return _KEY_MARKERS.search(text) is not None


def _looks_random(run: str) -> bool:
    """Upper case, lower case and digits alternate in random base64 (on average 2 changes in
    3 characters); in the words of a path, even in CamelCase, they seldom do (about 1 in 4).
    At least 2 changes in 5 are random-looking; so is a run with ``+``, one ending in ``=``,
    and one with 20 or more characters between slashes that are not words (a folder or file
    name that long, without a dot, is made of words: ``gemeente-voorbeeldstad-2026``, a
    UUID)."""
    if "+" in run or run.endswith("="):
        return True
    if any(len(part) >= 20 and not _is_words(part) for part in run.split("/")):
        return True
    classes = [c.isdigit() + 2 * c.isupper() for c in run if c.isalnum()]
    changes = sum(a != b for a, b in itertools.pairwise(classes))
    return len(classes) >= 32 and changes * 5 >= len(classes) * 2


def _is_words(name: str) -> bool:
    """Whether ``name`` is words (of 2.5 characters on average) joined by ``-`` or ``_``
    (``gemeente-voorbeeldstad``)."""
    words = [word for word in re.split(r"[-_]+", name) if word]
    if not words or 2 * sum(map(len, words)) < 5 * len(words):
        return False
    return all(_WORD.fullmatch(word) for word in words)
