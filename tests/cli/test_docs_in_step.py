"""The README and docs/ say what the CLI does: the commands, environment variables and
command lines they show are those of ``--help``, and the other way round.

* Every command and subcommand of the CLI is named in the README (``ketenx contract lint``),
  and every ``ketenx WORD`` the README names is a command.
* Every environment variable in the README's table appears in some ``--help``, and every
  ``KETENX_*`` variable a ``--help`` names is in that table.
* Every ``ketenx …`` line in a fenced block of README.md, CONTRIBUTING.md or docs/ parses with
  the CLI's own parser (run in-process with ``--help`` appended: an unknown command or option,
  or an option without its value, is a usage error), and each option it writes is one of that
  command's. A synopsis (a line with ``[--option …]``) names every option of its command.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, Result

Run = Callable[..., Result]

DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
README = ROOT / "README.md"


@cache
def _tree() -> dict[tuple[str, ...], Any]:
    """Every command of the CLI by its path (``()`` is ``ketenx`` itself)."""
    import typer

    from ketenx._cli import app

    found: dict[tuple[str, ...], Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found[path] = command
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def _options(path: tuple[str, ...]) -> set[str]:
    """The option names of one command (``--help`` included)."""
    names = {"--help"}
    for param in _tree()[path].params:
        if param.param_type_name == "option":
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


@dataclass(frozen=True)
class Line:
    """One ``ketenx …`` command line of a fenced block."""

    where: str  # file:line, the test id
    text: str
    synopsis: bool  # a usage synopsis: [--option VALUE] groups, alternatives a|b


def _fenced_lines(path: Path) -> Iterator[tuple[int, str, str]]:
    """Each line of a fenced block: its number, text and the block's language ("" if none)."""
    language: str | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            language = line.strip().strip("`").strip() if language is None else None
        elif language is not None:
            yield number, line, language


def _command_lines() -> Iterator[Line]:
    for doc in DOCS:
        if not doc.exists():
            continue
        lines = list(_fenced_lines(doc))
        i = 0
        while i < len(lines):
            number, text, language = lines[i]
            i += 1
            code = text.split(" #", 1)[0]  # not a comment's mention of ketenx
            if code.lstrip().startswith("#") or not re.search(r"(^|[\s;|&(:])ketenx\s", code):
                continue
            # joined with its continuation lines: `\` at the end, or an indented `[` synopsis
            while i < len(lines) and (
                text.rstrip().endswith("\\")
                or ("[" in text and lines[i][1].lstrip().startswith("["))
            ):
                text = text.rstrip().removesuffix("\\") + " " + lines[i][1].strip()
                i += 1
            # a usage synopsis: a block without a shell language, with [--option …] groups
            synopsis = not language and "[-" in text
            yield Line(f"{doc.relative_to(ROOT)}:{number}", text, synopsis)


LINES = list(_command_lines())


def _argv(line: Line) -> list[str]:
    """The arguments after ``ketenx`` on one line, as a shell would pass them."""
    text = line.text
    if line.synopsis:
        text = text.replace("[", " ").replace("]", " ")
        text = re.sub(r"(?<=\S)\|\S+", "", text)  # text|json|… → text
        text = re.sub(r"(--[\w-]+)/--[\w-]+", r"\1", text)  # --progress/--no-progress
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    tokens = list(lexer)
    start = tokens.index("ketenx") + 1
    argv: list[str] = []
    for token in tokens[start:]:
        if token and set(token) <= set("|&;<>()"):
            break  # a pipe, a redirection, the next command
        argv.append(token)
    return argv


def _path_of(argv: list[str]) -> tuple[str, ...]:
    tree, path = _tree(), ()
    for token in argv:
        if token.startswith("-"):
            continue  # the root's own options (--debug) come before the command
        if (*path, token) not in tree:
            break
        path = (*path, token)
    return path


def _written_options(argv: list[str]) -> set[str]:
    names: set[str] = set()
    for token in argv:
        if token.startswith("-") and token != "-":
            names.update(part.split("=", 1)[0] for part in token.split("/"))
    return names


def test_the_docs_show_command_lines() -> None:
    """The scan below finds what it checks (a broken scan would pass every line)."""
    assert len(LINES) >= 25
    assert any(line.synopsis for line in LINES)
    shown = {_path_of(_argv(line)) for line in LINES}
    assert {("check",), ("pack",), ("unpack",), ("contract", "lint")} <= shown


@pytest.mark.parametrize("line", LINES, ids=[line.where for line in LINES])
def test_a_documented_command_line_parses(run: Run, line: Line) -> None:
    argv = _argv(line)
    path = _path_of(argv)
    assert path, f"{line.where}: `ketenx {argv[0] if argv else ''}` is no command"
    done = run(*argv, "--help")
    assert done.code == 0, f"{line.where}: {done.err}"
    assert done.out.startswith("Usage: ketenx " + " ".join(path)), done.out[:200]
    root = [t for t in argv[: argv.index(path[0])] if t.startswith("-")]
    assert set(root) <= _options(()), f"{line.where}: {root}"
    unknown = _written_options(argv[argv.index(path[0]) :]) - _options(path)
    assert not unknown, f"{line.where}: `ketenx {' '.join(path)}` has no {sorted(unknown)}"
    if line.synopsis:
        written = _written_options(argv)
        missing = [
            param.opts[-1]
            for param in _tree()[path].params
            if param.param_type_name == "option"
            and not written & {*param.opts, *param.secondary_opts}
        ]
        assert not missing, f"{line.where}: the synopsis leaves out {sorted(missing)}"


def _readme_commands() -> set[tuple[str, ...]]:
    """Every ``ketenx WORD [WORD]`` of the README, in code or prose, read as a command path."""
    text = README.read_text(encoding="utf-8")
    found: set[tuple[str, ...]] = set()
    for match in re.finditer(r"`ketenx ((?:[a-z][a-z-]*)(?: [a-z][a-z-]*)?)", text):
        found.add(tuple(match.group(1).split()))
    for line in LINES:
        if line.where.startswith("README.md:"):
            found.add(tuple(a for a in _argv(line) if not a.startswith("-"))[:2])
    return found


def test_every_command_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    for path in _tree():
        if not path or _tree()[path].hidden:
            continue
        name = " ".join(path)
        # `ketenx contract lint` or, in a section on `ketenx contract`, `contract lint`
        assert re.search(rf"(ketenx |`){re.escape(name)}\b", text), f"`ketenx {name}`"


def test_every_command_the_readme_names_exists() -> None:
    tree = _tree()
    for words in _readme_commands():
        head = words[:1]
        assert head in tree, f"the README names `ketenx {' '.join(words)}`"
        if len(words) == 2 and getattr(tree[head], "commands", None):
            assert words in tree, f"the README names `ketenx {' '.join(words)}`"


def _help_text() -> str:
    from typer._click import Context

    parts = []
    for path, command in _tree().items():
        with Context(command, info_name=" ".join(("ketenx", *path))) as ctx:
            parts.append(command.get_help(ctx))
        for param in command.params:
            envvar = getattr(param, "envvar", None)
            parts.extend([envvar] if isinstance(envvar, str) else list(envvar or ()))
    return "\n".join(parts)


def _readme_variables() -> set[str]:
    """The variables of the README's "Environment variables" table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, flags=re.M))


def test_environment_variables_readme_and_help_agree() -> None:
    readme = _readme_variables()
    assert {"KETENX_CONTRACT", "KETENX_DEBUG", "NO_COLOR", "CI"} <= readme
    help_text = _help_text()
    for name in sorted(readme):
        assert re.search(rf"\b{name}\b", help_text), f"{name} is in the README, not in --help"
    in_help = set(re.findall(r"\bKETENX_[A-Z0-9_]+", help_text))
    assert in_help <= readme, f"not in the README's table: {sorted(in_help - readme)}"
