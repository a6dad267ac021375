"""Pseudonymisation secrets on disk, and the checks that keep them apart from the data.

File format (ASCII text; lines starting with ``#`` are comments, blank lines are ignored)::

    KETENX-SECRET-1 <key id> <base64url, no padding, of the secret's bytes>

A secret is 32 random bytes (at least 256 bits are required). The key id is ``kx1k_`` + the
first 16 hex digits of HMAC-SHA-256(key = secret, msg = ``ketenx/v1/key-id``); it is recomputed
on load, so a corrupt file is refused. No message here ever shows the secret.

This module is the only place where ketenx reads or writes secret files (edge I/O); the
cryptography itself is in :mod:`ketenx.pseudonym`.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import secrets as _random
import shutil
import stat
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import KeyMaterialError
from .fileio import make_folder

MAGIC = "KETENX-SECRET-1"
SECRET_BYTES = 32
KEY_ID_PREFIX = "kx1k_"
ENV_VAR = "KETENX_SECRET_FILE"
_KEY_ID_MSG = b"ketenx/v1/key-id"
_KEY_ID = re.compile(r"kx1k_[0-9a-f]{16}")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
# A secret pasted where a path belongs: 32 bytes are 43 base64url characters, 43 or 44
# (with "=") standard base64 characters, or 64 hex digits.
_LOOKS_LIKE_VALUE = re.compile(r"[A-Za-z0-9_+/-]{32,}={0,2}|[0-9A-Fa-f]{32,}")
# Git variables that would point `git -C <dir>` at another repository than the folder's own
# (they are set, for example, while git runs a hook).
_GIT_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
)


def key_id_for(secret: bytes) -> str:
    """``kx1k_`` + the first 16 hex digits of HMAC-SHA-256(secret, ``ketenx/v1/key-id``)."""
    return KEY_ID_PREFIX + hmac.new(secret, _KEY_ID_MSG, "sha256").hexdigest()[:16]


@dataclass(frozen=True)
class Secret:
    """A pseudonymisation secret. ``repr`` and ``str`` show the key id only."""

    key_id: str
    secret_bytes: bytes = field(repr=False)

    def __str__(self) -> str:
        return f"Secret({self.key_id})"


def format_secret(secret: bytes) -> str:
    """The text of a secret file: a warning comment, then the one secret line."""
    encoded = base64.urlsafe_b64encode(secret).rstrip(b"=").decode("ascii")
    return (
        "# ketenx pseudonymisation secret. Keep it apart from the data: never next to input or\n"
        "# output files, never in a git work tree, readable by its owner only (mode 0600).\n"
        f"{MAGIC} {key_id_for(secret)} {encoded}\n"
    )


def parse_secret(text: str, *, source: str = "secret file") -> Secret:
    """Parse the text of a secret file; :class:`KeyMaterialError` names what is wrong."""
    lines = [s for ln in text.splitlines() if (s := ln.strip()) and not s.startswith("#")]
    if len(lines) != 1:
        raise KeyMaterialError(
            f"{source}: not a ketenx secret file (expected exactly one `{MAGIC}` line)"
        )
    parts = lines[0].split()
    if len(parts) != 3 or parts[0] != MAGIC:
        raise KeyMaterialError(
            f"{source}: not a ketenx secret file (expected `{MAGIC} <key id> <secret>`)"
        )
    _, key_id, encoded = parts
    if not _KEY_ID.fullmatch(key_id):
        raise KeyMaterialError(f"{source}: the key id is malformed (expected kx1k_ + 16 hex)")
    raw = _decode(encoded)
    if raw is None:
        raise KeyMaterialError(f"{source}: the secret is not canonical unpadded base64url")
    if len(raw) < SECRET_BYTES:
        raise KeyMaterialError(
            f"{source}: the secret has {len(raw) * 8} bits; at least {SECRET_BYTES * 8} are "
            "required",
            hint="make a new one with `ketenx keys new-secret PATH`",
        )
    if not hmac.compare_digest(key_id_for(raw), key_id):
        raise KeyMaterialError(f"{source}: the key id does not match the secret (corrupt file?)")
    return Secret(key_id=key_id, secret_bytes=raw)


def _decode(encoded: str) -> bytes | None:
    if not _B64URL.fullmatch(encoded) or len(encoded) % 4 == 1:
        return None
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != encoded:
        return None
    return raw


def new_secret(path: str | Path) -> Secret:
    """Write a fresh 256-bit secret to ``path``, created with mode 0600; never overwrite."""
    path = Path(path)
    raw = _random.token_bytes(SECRET_BYTES)
    make_folder(path.parent, mode=0o700)  # a new folder for secrets is private
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyMaterialError(
            f"{path}: already exists; a secret is never overwritten",
            hint="choose another path, or remove the old secret yourself if it is no longer needed",
        ) from None
    except OSError as exc:
        raise KeyMaterialError(f"{path}: cannot create the secret file: {exc.strerror}") from None
    try:
        os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(format_secret(raw))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise KeyMaterialError(f"{path}: cannot write the secret file: {exc.strerror}") from None
    return Secret(key_id=key_id_for(raw), secret_bytes=raw)


def looks_like_key_material(text: str) -> bool:
    """Whether ``text`` (given where a path belongs) looks like a secret rather than a path:
    a secret-file line, a key id, or a long run of base64 or hex characters without the dots
    or leading slash that file paths have. Such text is never repeated in a message."""
    stripped = text.strip()
    if MAGIC in stripped or KEY_ID_PREFIX in stripped:
        return True
    if stripped.startswith(("/", "./", "../", "~")) or "." in stripped:
        return False
    return any(_LOOKS_LIKE_VALUE.fullmatch(part) for part in stripped.split())


def secret_from_env_or_path(path: str | None, environ: Mapping[str, str]) -> Path:
    """The secret file from ``--secret PATH``, else from ``KETENX_SECRET_FILE``.

    A secret given as a value instead of a path is refused (without repeating it).
    """
    given = path if path is not None else environ.get(ENV_VAR)
    if not given:
        raise KeyMaterialError(
            f"a pseudonymisation secret is needed: --secret PATH or {ENV_VAR}",
            hint="make one with `ketenx keys new-secret PATH`",
        )
    if looks_like_key_material(given) and not Path(given).exists():
        raise KeyMaterialError(
            "a secret was given as a value: secrets are given as a file path only, never on the "
            f"command line or in an environment variable (--secret PATH or {ENV_VAR}=PATH)",
            hint="if it was meant as a path: there is no such file",
        )
    return Path(given)


def load_secret(path: str | Path, *, data_paths: Sequence[str | Path] = ()) -> Secret:
    """Read a secret file, refusing unsafe setups with :class:`KeyMaterialError`.

    Refused: a missing or unreadable file; a file group or others may read or write; a file in
    the same folder as any of ``data_paths`` (the input and output files); a file inside a git
    work tree that git does not ignore; a malformed file, a short secret or a key id that does
    not match.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        if looks_like_key_material(str(path)):
            raise KeyMaterialError(
                "the secret file was not found, and what was given looks like a secret value: "
                "secrets are given as a file path only"
            ) from None
        raise KeyMaterialError(f"{path}: secret file not found") from None
    except OSError as exc:
        raise KeyMaterialError(f"{path}: cannot read the secret file: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise KeyMaterialError(f"{path}: the secret is not a regular file")
    if st.st_mode & 0o077:
        raise KeyMaterialError(
            f"{path}: the secret file is accessible by group or others "
            f"(mode {stat.S_IMODE(st.st_mode):04o}; it must be 0600 or stricter)",
            hint=f"chmod 600 {path}",
        )
    resolved = path.resolve()
    for data in data_paths:
        if str(data) == "-":  # standard input or output
            continue
        if Path(data).resolve().parent == resolved.parent:
            raise KeyMaterialError(
                f"{path}: the secret file is in the same folder as the data file {data}; "
                "keep secrets apart from the data",
                hint="move the secret to a folder of its own",
            )
    _refuse_if_not_ignored_by_git(path, resolved)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise KeyMaterialError(f"{path}: cannot read the secret file as ASCII text") from None
    return parse_secret(text, source=str(path))


def _git_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}


def _has_git_entry(folder: Path) -> bool:
    try:
        return (folder / ".git").exists()
    except OSError:
        return False


def _refuse_if_not_ignored_by_git(path: Path, resolved: Path) -> None:
    """Refuse a secret inside a git work tree unless git ignores it. Without a git program,
    a secret below a ``.git`` entry is refused: nothing can tell whether git ignores it."""
    folder = resolved.parent
    git = shutil.which("git")
    if git is None:
        if any(_has_git_entry(parent) for parent in (folder, *folder.parents)):
            raise KeyMaterialError(
                f"{path}: the secret file is below a git repository, and without a git "
                "program it cannot be confirmed that git ignores it",
                hint="move the secret out of the repository, or install git",
            )
        return
    env = _git_env()
    top = subprocess.run(
        [git, "-C", str(folder), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if top.returncode != 0 or not top.stdout.strip():
        if any(_has_git_entry(parent) for parent in (folder, *folder.parents)):
            # A .git above the folder that git will not inspect (for example another user's
            # repository: "dubious ownership"): it cannot be confirmed that git ignores it.
            raise KeyMaterialError(
                f"{path}: the secret file is below a git repository that git refuses to "
                "inspect, so it cannot be confirmed that git ignores it",
                hint="move the secret out of the repository",
            )
        return
    ignored = subprocess.run(
        [git, "-C", str(folder), "check-ignore", "-q", "--", resolved.name],
        capture_output=True,
        check=False,
        env=env,
    )
    if ignored.returncode != 0:  # 1: not ignored (or tracked); 128: git could not tell
        raise KeyMaterialError(
            f"{path}: the secret file is inside a git work tree and git does not ignore it; "
            "it could be committed together with the data",
            hint="move it out of the work tree, or add it to .gitignore (and never commit it)",
        )
