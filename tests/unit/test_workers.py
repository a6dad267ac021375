"""The keyed operations in forked helpers (`--jobs`): same bytes, same errors, no leftovers."""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ketenx.contract.model import load_contract
from ketenx.errors import OperationalError
from ketenx.records.formats import is_bsn
from ketenx.records.readers import BATCH_ROWS
from ketenx.transform.pipeline import pseudonymise_stream
from ketenx.transform.pseudonym import InvalidTextError, Keyring
from ketenx.transform.workers import KeyedHelpers, available_jobs, can_fork, run_tasks
from tests.helpers import HEADER, SAMPLE_CONTRACT

pytestmark = pytest.mark.skipif(not can_fork(), reason="helpers are forked: Linux only")

CONTRACT = load_contract(SAMPLE_CONTRACT)
KEYRING = Keyring.derive(bytes(range(32)), "00000001009876543000/test")
ROWS = 3 * BATCH_ROWS + 17  # four batches, the last one short


def bsns(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < n:
        candidate = f"{rng.randrange(10**9):09d}"
        if is_bsn(candidate):
            out.append(candidate)
    return out


def csv_input(n: int = ROWS, *, seed: int = 1) -> bytes:
    """``n`` valid rows; every third row has no e-mail (null: stays empty, not encrypted)."""
    lines = [HEADER]
    for i, bsn in enumerate(bsns(n, seed)):
        email = "" if i % 3 == 0 else f"ouder{i}@example.nl"
        lines.append(f"{bsn},Kim,Jansen,2015-03-02,V,1234 AB,{i % 999 + 1},Utrecht,{email},120,")
    return ("\n".join(lines) + "\n").encode()


def run_pass(source: bytes, jobs: int, fmt: str = "csv", to: str = "csv") -> tuple[Any, bytes]:
    sink = io.BytesIO()
    result = pseudonymise_stream(
        io.BytesIO(source),
        fmt,  # type: ignore[arg-type]
        sink,
        to,  # type: ignore[arg-type]
        CONTRACT,
        KEYRING,
        jobs=jobs,
    )
    return result, sink.getvalue()


def no_helpers_left() -> bool:
    return not multiprocessing.active_children()


@contextlib.contextmanager
def started(keyring: Any, workers: int = 1) -> Iterator[KeyedHelpers]:
    """Helpers for the ``with`` block; closed after it, and none may be left."""
    helpers = KeyedHelpers(keyring, workers)
    try:
        yield helpers
    finally:
        helpers.close()
    assert no_helpers_left()


@pytest.mark.parametrize("to", ["csv", "jsonl"])
@pytest.mark.parametrize("jobs", [2, 3])
def test_helpers_write_exactly_what_one_process_writes(jobs: int, to: str) -> None:
    source = csv_input()
    one, expected = run_pass(source, 1, to=to)
    many, got = run_pass(source, jobs, to=to)
    assert not one.rejected and not many.rejected
    assert many.records_out == one.records_out == ROWS
    assert got == expected
    assert many.output_digest == one.output_digest
    assert no_helpers_left()


def json_records(n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` valid records; e-mail absent, null, or present in turn."""
    records = []
    for i, bsn in enumerate(bsns(n, seed)):
        record: dict[str, Any] = {
            "bsn": bsn,
            "voornamen": "Kim",
            "achternaam": "Jansen",
            "geboortedatum": "2015-03-02",
            "geslacht": "V",
            "postcode": "1234 AB",
            "huisnummer": 1,
            "gemeente": "Utrecht",
        }
        if i % 4 == 1:
            record["email_ouder"] = None
        elif i % 4 == 2:
            record["email_ouder"] = f"Ouder{i}@Example.NL"
        records.append(record)
    return records


def test_helpers_on_json_lines_with_absent_and_null_values() -> None:
    records = json_records(2 * BATCH_ROWS + 5, seed=2)
    source = "".join(json.dumps(r) + "\n" for r in records).encode()
    _, expected = run_pass(source, 1, fmt="jsonl", to="jsonl")
    _, got = run_pass(source, 2, fmt="jsonl", to="jsonl")
    assert got == expected
    rows = [json.loads(line) for line in got.splitlines()]
    assert "email_ouder" not in rows[0] and rows[1]["email_ouder"] is None
    assert KEYRING.decrypt(rows[2]["email_ouder"], "email_ouder") == "Ouder2@Example.NL"


def test_a_rejected_later_batch_rejects_the_pass_and_stops_the_helpers() -> None:
    lines = csv_input().decode().splitlines()
    lines[3 * BATCH_ROWS - 1] = lines[3 * BATCH_ROWS - 1].replace(",V,", ",Q,")  # enum
    result, _ = run_pass(("\n".join(lines) + "\n").encode(), 2)
    assert result.rejected
    assert [(v.record, v.field, v.rule) for v in result.report.errors] == [
        (3 * BATCH_ROWS - 1, "/geslacht", "enum")
    ]
    assert no_helpers_left()


def test_an_error_in_a_helper_is_raised_here_as_the_same_error() -> None:
    """A lone surrogate cannot be keyed (the readers refuse one earlier; the keyring checks
    again): the helper's error comes back as the same class and message, and the helper
    serves the next task."""
    tasks = [("encrypt", "email_ouder", ["a@b.nl", "x\ud800@b.nl"])]
    with pytest.raises(InvalidTextError) as here:
        run_tasks(KEYRING, tasks)
    with started(KEYRING) as helpers:
        with pytest.raises(InvalidTextError) as there:
            helpers.result(helpers.submit(tasks))
        assert str(there.value) == str(here.value)
        assert "\ud800" not in str(there.value) and "@b.nl" not in str(there.value)
        good = [("pseudonymise", "bsn", ["111222333"])]
        assert helpers.result(helpers.submit(good)) == run_tasks(KEYRING, good)


def test_helpers_answer_in_order_and_round_robin() -> None:
    with started(KEYRING, workers=2) as helpers:
        tasks = [[("pseudonymise", "bsn", [f"{i:09d}"])] for i in range(6)]
        for first, second in zip(tasks[::2], tasks[1::2], strict=True):
            a, b = helpers.submit(first), helpers.submit(second)
            assert (a, b) == (0, 1)
            assert helpers.result(a) == run_tasks(KEYRING, first)
            assert helpers.result(b) == run_tasks(KEYRING, second)


def test_a_helper_that_dies_is_an_operational_error_not_a_hang() -> None:
    with started(KEYRING, workers=1) as helpers:
        (process,) = multiprocessing.active_children()
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join()
        with pytest.raises(OperationalError, match="helper process"):
            helpers.result(helpers.submit([("pseudonymise", "bsn", ["111222333"])]))


def test_one_batch_starts_no_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    spawned: list[int] = []
    original = KeyedHelpers.__init__

    def spy(self: KeyedHelpers, keyring: Any, workers: int = 1) -> None:
        spawned.append(workers)
        original(self, keyring, workers)

    monkeypatch.setattr(KeyedHelpers, "__init__", spy)
    run_pass(csv_input(BATCH_ROWS), 2)
    assert spawned == []
    run_pass(csv_input(BATCH_ROWS + 1), 2)
    assert spawned == [1]


def test_auto_jobs_follow_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert available_jobs() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert available_jobs() == 2


@pytest.fixture
def cli_input(run, tmp_path: Path) -> tuple[Path, Path]:
    """An input of two batches and a secret, in folders the secret checks accept."""
    data, secrets = tmp_path / "data", tmp_path / "secrets"
    data.mkdir()
    secrets.mkdir(mode=0o700)
    secret = secrets / "s.secret"
    assert run("keys", "new-secret", secret).code == 0
    src = data / "in.csv"
    src.write_bytes(csv_input(BATCH_ROWS + 10))
    return src, secret


def test_cli_jobs_give_the_same_delivery(run, cli_input) -> None:
    src, secret = cli_input
    data = src.parent
    outputs = []
    for jobs in ("1", "2"):
        out = data / f"out{jobs}.csv"
        args = ("-c", SAMPLE_CONTRACT, "-s", secret, "-o", out, "--jobs", jobs)
        result = run("pseudonymise", src, *args)
        assert result.code == 0, result.err
        outputs.append(out.read_bytes())
        meta = json.loads((data / f"out{jobs}.csv.meta.json").read_text())
        assert meta["output"]["records"] == BATCH_ROWS + 10
    assert outputs[0] == outputs[1]
    assert run("check", data / "out2.csv", "-c", SAMPLE_CONTRACT, "--side", "output").code == 0


class Exploding:
    """A keyring whose keyed operations fail with a value in the message."""

    def pseudonymise_many(self, values: Any) -> list[str]:
        raise ValueError(f"cannot key {values[0]}")

    def encrypt_many(self, values: Any, field: str) -> list[str]:
        raise ValueError(f"cannot encrypt {values[0]}")


def test_an_unexpected_helper_failure_is_operational_and_shows_nothing(capfd) -> None:
    with (
        started(Exploding()) as helpers,  # type: ignore[arg-type]
        pytest.raises(OperationalError) as caught,
    ):
        helpers.result(helpers.submit([("pseudonymise", "bsn", ["123456782"])]))
    assert "123456782" not in str(caught.value) and "helper" in str(caught.value)
    assert "123456782" not in capfd.readouterr().err  # no traceback from the helper either


def test_no_helpers_while_another_thread_runs() -> None:
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_fork()
        assert available_jobs() == 1
        source = csv_input(2 * BATCH_ROWS)
        _, one = run_pass(source, 1)
        _, two = run_pass(source, 2)  # falls back to this process
        assert two == one
    finally:
        stop.set()
        thread.join()
    assert can_fork()


def _report_can_fork(queue: Any) -> None:
    queue.put(can_fork())


def test_no_helpers_from_a_daemonic_worker() -> None:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_report_can_fork, args=(queue,), daemon=True)
    process.start()
    assert queue.get(timeout=30) is False
    process.join()


def test_cli_jobs_range_and_closed_stdout(run, cli_input) -> None:
    import subprocess
    import sys

    src, secret = cli_input
    data = src.parent
    out = data / "out.csv"
    args = [src, "-c", SAMPLE_CONTRACT, "-s", secret, "-o", out]
    assert run("pseudonymise", *args, "--jobs", "10").code == 2
    assert not out.exists()
    # A pipeline may run ketenx with its stdout closed.
    cmd = [sys.executable, "-m", "ketenx", "pseudonymise", *map(str, args), "--jobs", "2"]
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, close_fds=True,
                          pass_fds=(), check=False, preexec_fn=lambda: os.close(1))  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    assert out.exists()
