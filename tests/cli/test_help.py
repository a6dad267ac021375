"""Help that reads well: placeholders instead of Python types, whole summaries, usage errors
in ketenx's own short words (never repeating the value given), shell completion."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import SAMPLE_CONTRACT, Result

Run = Callable[..., Result]
PLANTED = "ZZPLANTED-value"  # repeated by no message (key material is refused even earlier)


def _paths() -> Iterator[tuple[str, ...]]:
    import typer

    from ketenx._cli import app

    def walk(command: object, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, sub in (getattr(command, "commands", None) or {}).items():
            yield from walk(sub, (*path, name))

    yield from walk(typer.main.get_command(app), ())


PATHS = list(_paths())


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "ketenx" for p in PATHS])
def test_help_shows_placeholders_not_types(run: Run, path: tuple[str, ...]) -> None:
    done = run(*path, "--help")
    assert done.code == 0, done.err
    text = done.out
    python_types = re.compile(
        r"<(path|str|int|float|bool|list)|\{[a-z_]+\}|list\[|int range|x[<>]="
    )
    assert not python_types.search(text), text
    usage = text.splitlines()[0]
    assert usage.startswith("Usage: ketenx")
    for line in text.splitlines()[1:]:
        if not line.lstrip().startswith(tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")):
            assert not line.rstrip().endswith("..."), line  # a summary cut short
    if path == ("check",):
        assert "DATA..." in usage and "--contract FILE" in text and "--max-errors N" in text
    if path == ("unpack",):
        assert "--output DIR" in text and "--not-before TIME" in text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--format", PLANTED], "must be one of: text, json, junit, sarif, github"),
        (["--side", PLANTED], "must be one of: input, output"),
        (["--max-errors", "-1"], "must be a whole number of at least 0"),
        (["--max-errors", PLANTED], "must be a whole number of at least 0"),
    ],
)
def test_bad_option_values_in_ketenx_words(run: Run, args: list[str], expected: str) -> None:
    done = run("check", "x.csv", "--contract", SAMPLE_CONTRACT, *args)
    assert done.code == 2
    assert expected in done.err
    assert "Value error" not in done.err and "Input should" not in done.err
    assert PLANTED not in done.out + done.err


def test_jobs_range(run: Run) -> None:
    done = run("pseudonymise", "x.csv", "-c", SAMPLE_CONTRACT, "-s", "s", "-o", "o", "-j", "12")
    assert done.code == 2 and "must be a whole number from 0 to 9" in done.err


@pytest.mark.parametrize("option", ["--debug", "--version"])
def test_root_option_after_the_command(run: Run, option: str) -> None:
    done = run("check", option, "x.csv")
    assert done.code == 2
    assert f"{option} goes before the command: ketenx {option} check" in done.err
    assert "Possible options" not in done.err


def test_stdin_without_input_format_is_a_usage_error(run: Run) -> None:
    done = run("check", "-", "--contract", SAMPLE_CONTRACT, stdin=b"a\n")
    assert done.code == 2
    assert done.err.startswith("Usage: ketenx check [OPTIONS] DATA...")
    assert "Error: -: cannot tell the input format from the name; use --input-format" in done.err


def test_shell_completion(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "COMP_WORDS": "ketenx check --format ",
        "COMP_CWORD": "3",
        "_KETENX_COMPLETE": "complete_bash",
    }
    ketenx = Path(sys.executable).parent / "ketenx"
    done = subprocess.run([str(ketenx)], env=env, capture_output=True, text=True, check=False)
    assert done.stdout.split() == ["text", "json", "junit", "sarif", "github"]
    shown = subprocess.run(
        [str(ketenx), "--show-completion", "bash"], capture_output=True, text=True, check=False
    )
    assert "_ketenx_completion" in shown.stdout
