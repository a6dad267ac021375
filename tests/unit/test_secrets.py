"""Secret files: format, key id, and the refusals that keep secrets apart from the data.

Every refusal goes through :func:`refused`, which also checks that the secret appears in no
form (hex, base64url, base64, Python bytes literal) in the error's text.
"""

from __future__ import annotations

import base64
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ketenx.errors import ExitCode, KeyMaterialError
from ketenx.storage.secrets import (
    MAGIC,
    Secret,
    format_secret,
    key_id_for,
    load_secret,
    new_secret,
    parse_secret,
    secret_from_env_or_path,
)

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

SEEN: list[bytes] = []  # every secret a test made, checked against every error text


def forms(secret: bytes) -> list[str]:
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.urlsafe_b64encode(secret).rstrip(b"=").decode(),
        base64.b64encode(secret).decode(),
        repr(secret),
        secret.decode("latin-1"),
    ]


def refused(fn: Callable[..., Any], *args: Any, match: str, **kwargs: Any) -> KeyMaterialError:
    with pytest.raises(KeyMaterialError, match=match) as info:
        fn(*args, **kwargs)
    exc = info.value
    assert exc.exit_code == ExitCode.OPERATIONAL
    texts = [exc.diagnostics(), str(exc), repr(exc), str(exc.hint)]
    assert "\n" not in exc.message  # one line
    for secret in SEEN:
        for form in forms(secret):
            for text in texts:
                assert form not in text
    return exc


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)
    return folder


@pytest.fixture
def secret_file(keys: Path) -> Iterator[Path]:
    path = keys / "ketenx.secret"
    SEEN.append(new_secret(path).secret_bytes)
    yield path


def git(*args: str, cwd: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


# --- writing ----------------------------------------------------------------------------------


def test_new_secret_file_format_and_mode(keys: Path) -> None:
    path = keys / "s.secret"
    old = os.umask(0)  # the most permissive umask: the file must still be 0600
    try:
        secret = new_secret(path)
    finally:
        os.umask(old)
    SEEN.append(secret.secret_bytes)
    assert path.stat().st_mode & 0o777 == 0o600
    lines = path.read_text(encoding="ascii").splitlines()
    assert lines[0].startswith("#") and "apart from the data" in lines[0]
    magic, key_id, encoded = lines[-1].split(" ")
    assert magic == MAGIC == "KETENX-SECRET-1"
    assert len(secret.secret_bytes) == 32
    assert key_id == secret.key_id == key_id_for(secret.secret_bytes)
    assert len(key_id) == len("kx1k_") + 16
    assert len(encoded) == 43 and "=" not in encoded
    assert base64.urlsafe_b64decode(encoded + "=") == secret.secret_bytes
    assert load_secret(path) == secret


def test_two_new_secrets_differ(keys: Path) -> None:
    one, two = new_secret(keys / "1.secret"), new_secret(keys / "2.secret")
    SEEN.extend([one.secret_bytes, two.secret_bytes])
    assert one.secret_bytes != two.secret_bytes and one.key_id != two.key_id


def test_overwrite_refused(secret_file: Path) -> None:
    before = secret_file.read_bytes()
    refused(new_secret, secret_file, match="already exists; a secret is never overwritten")
    assert secret_file.read_bytes() == before


def test_new_secret_in_a_missing_folder_creates_it_private(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "s.secret"
    SEEN.append(new_secret(path).secret_bytes)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_secret(path)


def test_key_id_is_hmac_of_a_fixed_message() -> None:
    # HMAC-SHA-256(key = 00 01 .. 1f, msg = "ketenx/v1/key-id"), first 16 hex digits.
    assert key_id_for(bytes(range(32))) == "kx1k_0fbac25a15245687"


def test_repr_and_str_hide_the_bytes() -> None:
    secret = parse_secret(format_secret(bytes(range(32))))
    SEEN.append(secret.secret_bytes)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert secret.key_id in text
        for form in forms(secret.secret_bytes):
            assert form not in text
    with pytest.raises(AttributeError):
        secret.key_id = "other"  # type: ignore[misc]  # frozen


# --- loading: the refusals --------------------------------------------------------------------


def test_missing_file_and_directory(keys: Path) -> None:
    refused(load_secret, keys / "absent.secret", match="secret file not found")
    refused(load_secret, keys, match="not a regular file")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o602, 0o660, 0o644, 0o666, 0o700 | 0o007])
def test_group_or_other_access_refused(secret_file: Path, mode: int) -> None:
    os.chmod(secret_file, mode)
    exc = refused(load_secret, secret_file, match="accessible by group or others")
    assert f"{mode:04o}" in exc.message and exc.hint == f"chmod 600 {secret_file}"


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_modes_accepted(secret_file: Path, mode: int) -> None:
    os.chmod(secret_file, mode)
    assert load_secret(secret_file).key_id.startswith("kx1k_")


def test_unreadable_file_refused(secret_file: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    os.chmod(secret_file, 0o000)
    try:
        refused(load_secret, secret_file, match="cannot read the secret file")
    finally:
        os.chmod(secret_file, 0o600)


def test_same_folder_as_data_refused(secret_file: Path, tmp_path: Path) -> None:
    keys = secret_file.parent
    for data_paths in ([keys / "input.csv"], [tmp_path / "data" / "in.csv", keys / "out.jsonl"]):
        exc = refused(
            load_secret, secret_file, data_paths=data_paths, match="same folder as the data file"
        )
        assert str(data_paths[-1]) in exc.message
    # The same folder reached through a symlink or a relative path is the same folder.
    link = tmp_path / "link"
    link.symlink_to(keys, target_is_directory=True)
    refused(load_secret, secret_file, data_paths=[link / "x.csv"], match="same folder")
    cwd = Path.cwd()
    os.chdir(keys)
    try:
        refused(load_secret, secret_file, data_paths=[Path("x.csv")], match="same folder")
    finally:
        os.chdir(cwd)


def test_other_folder_than_data_accepted(secret_file: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    secret = load_secret(secret_file, data_paths=[data / "in.csv", data / "out.csv", "-"])
    assert secret.key_id.startswith("kx1k_")
    # a sibling folder of the data's is apart from the data
    other = tmp_path / "elsewhere" / "keys"
    other.mkdir(parents=True)
    moved = other / secret_file.name
    secret_file.rename(moved)
    assert load_secret(moved, data_paths=[data / "sub" / "in.csv"])


def test_secret_anywhere_in_the_data_folder_tree_refused(secret_file: Path, tmp_path: Path) -> None:
    """Below the data's folder, above it (data inside the secret's tree), through a link
    placed beside the data, or with a second hard link: all refused, nothing else happens."""
    keys = secret_file.parent
    for data in (tmp_path / "in.csv", keys / "sub" / "out.csv", keys / "a" / "b" / "c.jsonl"):
        exc = refused(load_secret, secret_file, data_paths=["-", data], match="same folder")
        assert str(data) in exc.message
    data = tmp_path / "data"
    (data / "deep" / "keys").mkdir(parents=True)
    inside = data / "deep" / "keys" / "k.secret"
    inside.write_text(secret_file.read_text())
    inside.chmod(0o600)
    refused(load_secret, inside, data_paths=[data / "in.csv"], match="same folder as the data")
    # a symbolic link beside the data that leads to a secret kept elsewhere
    apart = tmp_path / "vault" / "keys"
    apart.mkdir(parents=True)
    kept = apart / "k.secret"
    secret_file.rename(kept)
    assert load_secret(kept, data_paths=[data / "in.csv"])
    link = data / "k.secret"
    link.symlink_to(kept)
    refused(load_secret, link, data_paths=[data / "in.csv"], match="same folder as the data")
    # a second hard link: another name for the secret could be anywhere
    os.link(kept, tmp_path / "vault" / "copy")
    refused(load_secret, kept, data_paths=[data / "in.csv"], match="2 hard links")


@needs_git
def test_inside_a_git_work_tree_not_ignored_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "keys").mkdir(parents=True)
    git("init", "-q", cwd=repo)
    for path in (repo / "ketenx.secret", repo / "keys" / "ketenx.secret"):
        SEEN.append(new_secret(path).secret_bytes)
        exc = refused(load_secret, path, match="inside a git work tree and git does not ignore")
        assert exc.hint and ".gitignore" in exc.hint


@needs_git
def test_inside_a_git_work_tree_ignored_accepted(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "keys").mkdir(parents=True)
    git("init", "-q", cwd=repo)
    (repo / ".gitignore").write_text("*.secret\n", encoding="utf-8")
    path = repo / "keys" / "ketenx.secret"
    SEEN.append(new_secret(path).secret_bytes)
    assert load_secret(path).key_id.startswith("kx1k_")


@needs_git
def test_ignored_but_tracked_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    (repo / ".gitignore").write_text("*.secret\n", encoding="utf-8")
    path = repo / "ketenx.secret"
    SEEN.append(new_secret(path).secret_bytes)
    git("add", "-f", "ketenx.secret", cwd=repo)  # staged: git no longer treats it as ignored
    refused(load_secret, path, match="git does not ignore")


@needs_git
def test_git_variables_of_a_running_hook_do_not_redirect_the_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    git("init", "-q", cwd=other)
    keys = tmp_path / "keys"
    keys.mkdir()
    path = keys / "ketenx.secret"
    SEEN.append(new_secret(path).secret_bytes)
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    assert load_secret(path)  # keys/ is in no work tree, whatever GIT_DIR says


@needs_git
def test_a_repository_git_will_not_inspect_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").write_text("gitdir: /nonexistent/ketenx-test\n", encoding="utf-8")
    path = repo / "ketenx.secret"
    SEEN.append(new_secret(path).secret_bytes)
    refused(load_secret, path, match="git refuses to inspect")


def test_without_git_a_secret_below_a_repository_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / ".git").mkdir()
    path = repo / "sub" / "ketenx.secret"
    SEEN.append(new_secret(path).secret_bytes)
    outside = tmp_path / "keys" / "ketenx.secret"
    outside.parent.mkdir(mode=0o700)
    SEEN.append(new_secret(outside).secret_bytes)
    monkeypatch.setattr("ketenx.storage.secrets.shutil.which", lambda name: None)
    refused(load_secret, path, match="without a git program it cannot be confirmed")
    assert load_secret(outside)  # no repository above it: nothing to ask git


def test_short_secret_refused(keys: Path) -> None:
    short = bytes(range(100, 116))  # 128 bits
    SEEN.append(short)
    path = keys / "short.secret"
    path.write_text(format_secret(short), encoding="ascii")
    os.chmod(path, 0o600)
    refused(load_secret, path, match="has 128 bits; at least 256 are required")


def test_corrupt_key_id_refused(secret_file: Path) -> None:
    text = secret_file.read_text(encoding="ascii")
    key_id = text.split()[-2]
    flipped = key_id[:-1] + ("0" if key_id[-1] != "0" else "1")
    secret_file.write_text(text.replace(key_id, flipped), encoding="ascii")
    refused(load_secret, secret_file, match="key id does not match the secret")


def test_corrupt_secret_refused(secret_file: Path) -> None:
    text = secret_file.read_text(encoding="ascii")
    encoded = text.split()[-1]
    changed = ("B" if encoded[0] != "B" else "C") + encoded[1:]
    secret_file.write_text(text.replace(encoded, changed), encoding="ascii")
    refused(load_secret, secret_file, match="key id does not match the secret")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "expected exactly one"),
        ("# only a comment\n", "expected exactly one"),
        ("hello\n", "expected `KETENX-SECRET-1 <key id> <secret>`"),
        ("KETENX-SECRET-1 kx1k_0fbac25a15245687\n", "expected `KETENX-SECRET-1"),
        ("KETENX-SECRET-1 kx1k_xyz AAAA\n", "key id is malformed"),
        ("KETENX-SECRET-1 kx1k_0fbac25a15245687 AA!A\n", "not canonical unpadded base64url"),
        ("KETENX-SECRET-1 kx1k_0fbac25a15245687 AAAA=\n", "not canonical unpadded base64url"),
        ("KETENX-SECRET-1 kx1k_0fbac25a15245687 A\n", "not canonical unpadded base64url"),
        ("é\n", "cannot read the secret file as ASCII"),
    ],
)
def test_malformed_files_refused(keys: Path, text: str, match: str) -> None:
    path = keys / "bad.secret"
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)
    refused(load_secret, path, match=match)


def test_parse_ignores_comments_blank_lines_and_surrounding_space() -> None:
    line = format_secret(bytes(range(32))).splitlines()[-1]
    text = f"# one\n\n   # two\n  {line}  \r\n\n"
    assert parse_secret(text).key_id == "kx1k_0fbac25a15245687"


# --- where the secret file comes from ----------------------------------------------------------


def test_flag_before_environment() -> None:
    env = {"KETENX_SECRET_FILE": "/x/y"}
    assert secret_from_env_or_path(None, env) == Path("/x/y")
    assert secret_from_env_or_path("/a", env) == Path("/a")
    refused(secret_from_env_or_path, None, {}, match="a pseudonymisation secret is needed")
    refused(secret_from_env_or_path, None, {"KETENX_SECRET_FILE": ""}, match="is needed")


def test_a_secret_value_instead_of_a_path_is_refused(tmp_path: Path) -> None:
    raw = bytes(range(200, 232))
    SEEN.append(raw)
    line = format_secret(raw).splitlines()[-1]
    encoded = line.split()[-1]
    values = [
        line,
        encoded,
        base64.b64encode(raw).decode(),  # standard base64 with padding
        raw.hex(),
        f" {encoded}\n",
    ]
    for value in values:
        exc = refused(secret_from_env_or_path, value, {}, match="file path only")
        assert "--secret PATH" in exc.message
        exc = refused(
            secret_from_env_or_path, None, {"KETENX_SECRET_FILE": value}, match="file path only"
        )
    # a file whose name merely looks like base64url is a path
    named = tmp_path / encoded
    named.write_text("x", encoding="ascii")
    assert secret_from_env_or_path(str(named), {}) == named
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        assert secret_from_env_or_path(encoded, {}) == Path(encoded)
    finally:
        os.chdir(cwd)
    # paths that do not exist are paths (load_secret will say "not found") ...
    for path in ("/nonexistent/ketenx-secret-for-gemeente-voorbeeldstad-2026", "keys/g.secret"):
        assert secret_from_env_or_path(path, {}) == Path(path)
    # ... unless they look like key material: then they are never repeated
    for value in ("a" * 50, base64.b64encode(bytes(range(48))).decode(), "kx1k_0fbac25a15245687 x"):
        exc = refused(secret_from_env_or_path, value, {}, match="file path only")
        assert value not in exc.message


def test_secret_dataclass_equality_uses_the_bytes() -> None:
    a = Secret(key_id="kx1k_0fbac25a15245687", secret_bytes=bytes(range(32)))
    assert a == parse_secret(format_secret(bytes(range(32))))
    assert a != Secret(key_id=a.key_id, secret_bytes=bytes(32))
