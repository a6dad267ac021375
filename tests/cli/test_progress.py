"""Long work shows progress: one implementation for check, pseudonymise, reidentify, pack,
unpack, risk and scan — a bar on a terminal, plain lines without escape codes in a log with
`--progress`, nothing in CI or a pipe by default."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, SAMPLE_CONTRACT

PASSPHRASE = "progress test passphrase"


def ketenx(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "KETENX_PASSPHRASE": PASSPHRASE, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ketenx", *map(str, args)],
        capture_output=True,
        text=True,
        env=full,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("progress")
    data = root / "export" / "export.csv"
    data.parent.mkdir()
    gen = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "generate.py"), "--rows", "3000", "-o", str(data)],
        check=True,
    )
    assert gen.returncode == 0
    keys = root / "keys"
    assert ketenx("keys", "new-secret", keys / "s.secret").returncode == 0
    assert ketenx("keys", "new-signing", keys / "sender").returncode == 0
    assert ketenx("keys", "new-identity", keys / "recipient").returncode == 0
    recipient = (keys / "recipient.age.pub").read_text().strip()
    partners = root / "partners.yaml"
    partners.write_text(
        "ketenx: 1\npartners:\n"
        '  - {name: S, oin: "00000001001234567000", signing_keys: '
        f"[{{public_key_file: {keys / 'sender.pub'}, valid_from: 2020-01-01}}]}}\n"
        f'  - {{name: R, oin: "00000001009876543000", age_recipients: [{recipient}]}}\n'
    )
    return {"root": root, "data": data, "keys": keys, "partners": partners}


def _commands(ex: dict[str, Path]) -> list[list[str | Path]]:
    out, keys = ex["root"] / "out", ex["keys"]
    c = ["-c", SAMPLE_CONTRACT]
    return [
        ["check", ex["data"], *c],
        ["pseudonymise", ex["data"], *c, "-s", keys / "s.secret", "-o", out / "d.csv"],
        ["reidentify", out / "d.csv", *c, "-s", keys / "s.secret", "-o", out / "r.csv"],
        [
            "pack",
            ex["data"],
            *c,
            "-s",
            keys / "s.secret",
            "-k",
            keys / "sender.key",
            "-p",
            ex["partners"],
            "-o",
            out / "d.ketenx",
        ],
        [
            "unpack",
            out / "d.ketenx",
            *c,
            "-p",
            ex["partners"],
            "-i",
            keys / "recipient.age",
            "-o",
            out / "inbox",
        ],
        ["scan", ex["data"], *c],
        ["risk", ex["data"], *c],
    ]


def test_plain_progress_lines_in_a_log(exchange: dict[str, Path]) -> None:
    for args in _commands(exchange):
        done = ketenx(*args, "--progress", env={"CI": "true"})
        assert done.returncode in (0, 1), (args[0], done.stderr)
        command = str(args[0])
        lines = [line for line in done.stderr.splitlines() if line.startswith(f"ketenx {command} ")]
        assert lines, (command, done.stderr)
        assert "records" in lines[-1] and "% of" in lines[-1], lines
        assert "\x1b" not in done.stderr and "\r" not in done.stderr


def test_nothing_in_ci_by_default(exchange: dict[str, Path], tmp_path: Path) -> None:
    done = ketenx("check", exchange["data"], "-c", SAMPLE_CONTRACT, env={"CI": "true"})
    assert done.returncode == 0
    assert done.stderr == ""
    quiet = ketenx("check", exchange["data"], "-c", SAMPLE_CONTRACT, "--no-progress")
    assert quiet.stderr == ""


def test_a_bar_on_a_terminal(exchange: dict[str, Path]) -> None:
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["TERM"] = "xterm"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ketenx",
            "check",
            str(exchange["data"]),
            "-c",
            str(SAMPLE_CONTRACT),
        ],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=120)
    os.close(leader)
    assert proc.returncode == 0
    assert b"\x1b[" in seen  # drawn with terminal codes, and removed at the end
