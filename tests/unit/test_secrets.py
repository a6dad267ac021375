"""Secret files: format, key id, and the refusals that keep secrets apart from the data."""

from __future__ import annotations

import os

import pytest

from ketenx.errors import KeyMaterialError
from ketenx.secrets import (
    format_secret,
    key_id_for,
    load_secret,
    new_secret,
    parse_secret,
    secret_from_env_or_path,
)


def test_new_secret_round_trip(tmp_path):
    path = tmp_path / "keys" / "s.secret"
    path.parent.mkdir(mode=0o700)
    secret = new_secret(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert len(secret.secret_bytes) == 32
    assert secret.key_id == key_id_for(secret.secret_bytes)
    loaded = load_secret(path)
    assert loaded == secret
    assert secret.secret_bytes.hex() not in repr(secret) + str(secret)
    with pytest.raises(KeyMaterialError, match="never overwritten"):
        new_secret(path)


def test_corrupt_key_id_and_short_secret():
    text = format_secret(bytes(32))
    broken = text.replace(key_id_for(bytes(32)), "kx1k_0000000000000000")
    with pytest.raises(KeyMaterialError, match="does not match"):
        parse_secret(broken)
    with pytest.raises(KeyMaterialError, match="at least 256"):
        parse_secret(format_secret(bytes(16)))
    with pytest.raises(KeyMaterialError, match="not a ketenx secret"):
        parse_secret("hello\n")


def test_refusals_never_show_the_secret(tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    path = keys / "s.secret"
    secret = new_secret(path)
    encoded = path.read_text().split()[-1]
    os.chmod(path, 0o644)
    with pytest.raises(KeyMaterialError) as info:
        load_secret(path)
    os.chmod(path, 0o600)
    with pytest.raises(KeyMaterialError) as beside:
        load_secret(path, data_paths=[keys / "data.csv"])
    for exc in (info.value, beside.value):
        assert (
            encoded not in exc.diagnostics() and secret.secret_bytes.hex() not in exc.diagnostics()
        )


def test_secret_from_env_or_path(tmp_path):
    assert str(secret_from_env_or_path(None, {"KETENX_SECRET_FILE": "/x/y"})) == "/x/y"
    assert str(secret_from_env_or_path("/a", {"KETENX_SECRET_FILE": "/x/y"})) == "/a"
    with pytest.raises(KeyMaterialError, match="needed"):
        secret_from_env_or_path(None, {})
    value = format_secret(bytes(range(32))).splitlines()[-1]
    for given in (value, value.split()[-1]):
        with pytest.raises(KeyMaterialError, match="file path only") as info:
            secret_from_env_or_path(given, {})
        assert value.split()[-1] not in info.value.diagnostics()
