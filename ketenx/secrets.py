"""Pseudonymisation secrets on disk, and the checks that keep them apart from the data.

File format (text; ``#`` lines are comments)::

    KETENX-SECRET-1 <key id> <base64url, no padding, of 32 random bytes>

The key id is ``kx1k_`` + the first 16 hex digits of HMAC-SHA-256(secret, ``ketenx/v1/key-id``);
it is recomputed on load, so a corrupt file is refused. No message here ever shows the secret.
"""

from __future__ import annotations

import base64
import binascii
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

MAGIC = "KETENX-SECRET-1"
SECRET_BYTES = 32
ENV_VAR = "KETENX_SECRET_FILE"
_KEY_ID_INFO = b"ketenx/v1/key-id"
_LOOKS_LIKE_VALUE = re.compile(r"[A-Za-z0-9_-]{40,}={0,2}")


def key_id_for(secret: bytes) -> str:
    return "kx1k_" + hmac.new(secret, _KEY_ID_INFO, "sha256").hexdigest()[:16]


@dataclass(frozen=True)
class Secret:
    """A pseudonymisation secret. ``repr`` and ``str`` show the key id only."""

    key_id: str
    secret_bytes: bytes = field(repr=False)

    def __str__(self) -> str:
        return f"Secret({self.key_id})"


def format_secret(secret: bytes) -> str:
    encoded = base64.urlsafe_b64encode(secret).rstrip(b"=").decode("ascii")
    return (
        "# ketenx pseudonymisation secret. Keep it apart from the data: not next to input or\n"
        "# output files, not in a git work tree, readable by its owner only.\n"
        f"{MAGIC} {key_id_for(secret)} {encoded}\n"
    )


def parse_secret(text: str, *, source: str = "secret file") -> Secret:
    lines = [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]
    if len(lines) != 1:
        raise KeyMaterialError(f"{source}: not a ketenx secret file (expected one `{MAGIC}` line)")
    parts = lines[0].split()
    if len(parts) != 3 or parts[0] != MAGIC:
        raise KeyMaterialError(
            f"{source}: not a ketenx secret file (expected `{MAGIC} <key id> <secret>`)"
        )
    _, key_id, encoded = parts
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise KeyMaterialError(f"{source}: the secret is not valid base64url") from None
    if len(raw) < SECRET_BYTES:
        raise KeyMaterialError(
            f"{source}: the secret has {len(raw) * 8} bits; "
            f"at least {SECRET_BYTES * 8} are required"
        )
    if not hmac.compare_digest(key_id_for(raw), key_id):
        raise KeyMaterialError(f"{source}: the key id does not match the secret (corrupt file?)")
    return Secret(key_id=key_id, secret_bytes=raw)


def new_secret(path: str | Path) -> Secret:
    """Write a fresh 256-bit secret to ``path`` (mode 0600); refuse to overwrite."""
    path = Path(path)
    raw = _random.token_bytes(SECRET_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyMaterialError(f"{path}: already exists; a secret is never overwritten") from None
    except OSError as exc:
        raise KeyMaterialError(f"{path}: cannot create the secret file: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(format_secret(raw))
    os.chmod(path, 0o600)
    return Secret(key_id=key_id_for(raw), secret_bytes=raw)


def secret_from_env_or_path(path: str | None, environ: Mapping[str, str]) -> Path:
    """The secret file from ``--secret`` or ``KETENX_SECRET_FILE``; a value is refused."""
    given = path if path is not None else environ.get(ENV_VAR)
    if not given:
        raise KeyMaterialError(
            f"a pseudonymisation secret is needed: --secret PATH or {ENV_VAR}",
            hint="make one with `ketenx keys new-secret PATH`",
        )
    if given.startswith(MAGIC) or (_LOOKS_LIKE_VALUE.fullmatch(given) and not Path(given).exists()):
        raise KeyMaterialError(
            "secrets are given as a file path only, never as a value on the command line "
            "or in an environment variable"
        )
    return Path(given)


def load_secret(path: str | Path, *, data_paths: Sequence[str | Path] = ()) -> Secret:
    """Read a secret file, refusing unsafe setups (see docs/pseudonymise.md)."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyMaterialError(f"{path}: secret file not found") from None
    except OSError as exc:
        raise KeyMaterialError(f"{path}: cannot read the secret file: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise KeyMaterialError(f"{path}: the secret is not a regular file")
    if st.st_mode & 0o077:
        raise KeyMaterialError(
            f"{path}: the secret file is accessible by group or others "
            f"(mode {stat.S_IMODE(st.st_mode):04o})",
            hint=f"chmod 600 {path}",
        )
    folder = path.resolve().parent
    for data in data_paths:
        if Path(data).resolve().parent == folder:
            raise KeyMaterialError(
                f"{path}: the secret file is in the same folder as {data}; keep secrets apart "
                "from the data"
            )
    _refuse_if_tracked_by_git(path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise KeyMaterialError(f"{path}: cannot read the secret file") from None
    return parse_secret(text, source=str(path))


def _refuse_if_tracked_by_git(path: Path) -> None:
    git = shutil.which("git")
    if git is None:
        return
    folder = path.resolve().parent
    inside = subprocess.run(
        [git, "-C", str(folder), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return
    ignored = subprocess.run(
        [git, "-C", str(folder), "check-ignore", "-q", "--", path.resolve().name],
        capture_output=True,
        check=False,
    )
    if ignored.returncode != 0:
        raise KeyMaterialError(
            f"{path}: the secret file is inside a git work tree and not ignored by git; it "
            "could be committed together with the data",
            hint="move it out of the work tree, or add it to .gitignore",
        )
