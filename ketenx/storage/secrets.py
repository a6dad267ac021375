"""Pseudonymisation secrets on disk, and the checks that keep them apart from the data.

File format (ASCII text; lines starting with ``#`` are comments, blank lines are ignored)::

    KETENX-SECRET-1 <key id> <base64url, no padding, of the secret's bytes>

A secret is 32 random bytes (at least 256 bits are required). The key id is ``kx1k_`` + the
first 16 hex digits of HMAC-SHA-256(key = secret, msg = ``ketenx/v1/key-id``); it is recomputed
on load, so a corrupt file is refused. No message here ever shows the secret.

This module is the only place where ketenx reads or writes secret files (edge I/O); the
cryptography itself is in :mod:`ketenx.transform.pseudonym`.
"""

from __future__ import annotations

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

from ..errors import KeyMaterialError
from ..kx1 import KEY_ID_PATTERN, KEY_ID_PREFIX, b64url, b64url_decode
from .fileio import PRIVATE_MODE, make_folder, write_new
from .material import looks_like_key_material, unmistakably_key_material

MAGIC = "KETENX-SECRET-1"
SECRET_BYTES = 32
ENV_VAR = "KETENX_SECRET_FILE"
_KEY_ID_MSG = b"ketenx/v1/key-id"
_KEY_ID = re.compile(KEY_ID_PATTERN)
# The only variables `git` is given: enough to find the program's helpers, the user's own git
# configuration (core.excludesFile and safe.directory decide what is ignored and inspected)
# and a locale. Nothing else: no passphrase, no secret path, and no GIT_DIR or GIT_WORK_TREE
# that would point `git -C <dir>` at another repository than the folder's own (they are set,
# for example, while git runs a hook).
_GIT_ENV_VARS = ("PATH", "HOME", "XDG_CONFIG_HOME", "SYSTEMROOT")


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
    encoded = b64url(secret)
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
    try:
        return b64url_decode(encoded)
    except ValueError:
        return None


def new_secret(path: str | Path) -> Secret:
    """Write a fresh 256-bit secret to ``path``, created with mode 0600; never overwrite."""
    refuse_key_material(path, "new secret", new=True)
    path = Path(path)
    raw = _random.token_bytes(SECRET_BYTES)
    make_folder(path.parent, mode=0o700)  # a new folder for secrets is private
    try:
        write_new(path, format_secret(raw).encode("ascii"), PRIVATE_MODE)
    except FileExistsError:
        raise KeyMaterialError(
            f"{path}: already exists; a secret is never overwritten",
            hint="choose another path, or remove the old secret yourself if it is no longer needed",
        ) from None
    except OSError as exc:
        raise KeyMaterialError(f"{path}: cannot write the secret file: {exc.strerror}") from None
    return Secret(key_id=key_id_for(raw), secret_bytes=raw)


def refuse_key_material(
    given: str | os.PathLike[str],
    what: str,
    *,
    usage: str = "",
    hint: str = "",
    new: bool = False,
) -> None:
    """Refuse a ``given`` path that looks like key material, without repeating it.

    Unmistakable key material (a PEM line, an age identity, a secret line) is refused even if
    a file of that name exists; a path that only looks random is refused when no such file
    exists (so a message about the missing file would repeat it). For the name of a file to
    be made (``new``) only unmistakable key material is refused."""
    text = os.fspath(given)
    if new and not unmistakably_key_material(text):
        return  # the name of a file to be made: only unmistakable key material is refused
    if not looks_like_key_material(text):
        return
    if not unmistakably_key_material(text) and os.path.lexists(text):
        return
    raise KeyMaterialError(
        f"what was given as the {what} path looks like key material (not shown): keys and "
        "secrets are given as a file path only, never on the command line or in an "
        f"environment variable{f' ({usage})' if usage else ''}",
        hint=hint or "if it was meant as a path: there is no such file",
    )


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
    refuse_key_material(given, "secret", usage=f"--secret PATH or {ENV_VAR}=PATH")
    return Path(given)


def load_secret(path: str | Path, *, data_paths: Sequence[str | Path] = ()) -> Secret:
    """Read a secret file, refusing unsafe setups with :class:`KeyMaterialError`.

    Refused: a path that looks like key material; a missing or unreadable file; a file group
    or others may read or write; a file with more than one hard link; a file inside the folder
    tree of any of ``data_paths`` (the input and output files), or one of them inside the
    secret's folder tree, by the secret's own name or the file a link leads to; a file inside
    a git work tree that git does not ignore; a malformed file, a short secret or a key id
    that does not match.
    """
    refuse_key_material(path, "secret")
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
            f"(mode {stat.S_IMODE(st.st_mode):04o}; it must be 0600 or stricter)",
            hint=f"chmod 600 {path}",
        )
    if st.st_nlink > 1:
        raise KeyMaterialError(
            f"{path}: the secret file has {st.st_nlink} hard links; another name for it could "
            "sit anywhere, next to the data or in a repository",
            hint="copy it to a file of its own (cp), then remove the other names",
        )
    resolved = path.resolve()
    _refuse_near_data(path, resolved, data_paths)
    _refuse_if_not_ignored_by_git(path, resolved)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise KeyMaterialError(f"{path}: cannot read the secret file as ASCII text") from None
    return parse_secret(text, source=str(path))


def _refuse_near_data(path: Path, resolved: Path, data_paths: Sequence[str | Path]) -> None:
    """Refuse a secret that lies in the folder tree of an input or output file, or an input
    or output inside the secret's folder tree. Both the secret's own name (a symbolic link
    placed beside the data) and the file it leads to count."""
    secret_places = {Path(os.path.abspath(path)), resolved}
    for data in data_paths:
        if str(data) == "-":  # standard input or output
            continue
        data_places = {Path(os.path.abspath(data)), Path(data).resolve()}
        for secret_at in secret_places:
            for data_at in data_places:
                if secret_at.is_relative_to(data_at.parent):
                    raise KeyMaterialError(
                        f"{path}: the secret file is in the same folder as the data file "
                        f"{data}, or in a folder below it; keep secrets apart from the data",
                        hint="move the secret to a folder of its own, outside the data's",
                    )
                if data_at.is_relative_to(secret_at.parent):
                    raise KeyMaterialError(
                        f"{path}: the data file {data} is in the same folder as the secret, "
                        "or in a folder below it; keep secrets apart from the data",
                        hint="move the secret to a folder of its own, outside the data's",
                    )


def _git_env() -> dict[str, str]:
    """A minimal environment for the `git` child process (see ``_GIT_ENV_VARS``)."""
    env = {k: os.environ[k] for k in _GIT_ENV_VARS if k in os.environ}
    return {**env, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}


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
