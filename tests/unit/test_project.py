"""The habits of the project hold: one version, one copy of the schemas (and the built wheel and
sdist carry it), the licence pyproject names, a changelog, and test helpers outside conftest."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, package_index_unreachable

SCHEMAS = ROOT / "schemas"


def _pyproject() -> dict[str, object]:
    import tomllib

    project: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project


# --- one version ---------------------------------------------------------------------------


def test_one_version_everywhere() -> None:
    import ketenx
    from ketenx._version import __version__

    done = subprocess.run(
        [sys.executable, "-m", "ketenx", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout == f"ketenx {__version__}\n"
    assert ketenx.__version__ == __version__
    # a stale editable install (metadata from before a version change) fails here: reinstall
    assert importlib.metadata.version("ketenx") == __version__
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]|rc)?\d*", __version__)


def test_the_version_is_written_once() -> None:
    """pyproject reads it from ketenx/_version.py; no other file of the package writes one."""
    project = _pyproject()
    assert "version" not in project and "version" in project["dynamic"]  # type: ignore[operator]
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '[tool.hatch.version]\npath = "ketenx/_version.py"' in pyproject
    literal = re.compile(r"""__version__\s*=\s*["']""")
    writers = [p for p in (ROOT / "ketenx").rglob("*.py") if literal.search(p.read_text())]
    assert writers == [ROOT / "ketenx" / "_version.py"]


def test_the_changelog_has_the_version() -> None:
    from ketenx._version import __version__

    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog")
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(__version__)}\]", text, flags=re.M)


# --- one copy of the schemas -----------------------------------------------------------------


def test_the_package_loads_the_one_schemas_folder() -> None:
    """``ketenx/_schemas`` is ``schemas/`` itself (a link), and every schema loads from it."""
    from importlib import resources

    from ketenx.resources import load_schema

    link = ROOT / "ketenx" / "_schemas"
    assert link.is_symlink() and link.resolve() == SCHEMAS.resolve()
    shipped = resources.files("ketenx").joinpath("_schemas")
    names = sorted(p.name for p in SCHEMAS.iterdir())
    assert names and names == sorted(p.name for p in shipped.iterdir())
    for name in names:
        assert shipped.joinpath(name).read_bytes() == (SCHEMAS / name).read_bytes()
        assert load_schema(name) == json.loads((SCHEMAS / name).read_bytes())


def test_git_holds_one_copy_of_the_schemas() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-s", "ketenx/_schemas", "schemas"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    link = [line for line in listed if line.endswith("\tketenx/_schemas")]
    assert len(link) == 1 and link[0].startswith("120000 ")  # a symbolic link, not a copy
    assert not [line for line in listed if "\tketenx/_schemas/" in line]


@pytest.mark.slow
def test_the_wheel_and_the_sdist_carry_the_schemas_and_the_licence(tmp_path: Path) -> None:
    """Built as a user builds them (pip, an isolated build with hatchling from the index)."""
    unreachable = package_index_unreachable()
    if unreachable:
        pytest.skip(f"an isolated build needs hatchling from a package index: {unreachable}")
    backend = tmp_path / "backend"
    subprocess.run([sys.executable, "-m", "venv", str(backend)], check=True, capture_output=True)
    python = backend / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "hatchling>=1.27"],
        check=True, capture_output=True,
    )  # fmt: skip
    out = tmp_path / "dist"
    build = (
        "import sys; from hatchling.build import build_sdist, build_wheel; "
        "print(build_wheel(sys.argv[1])); print(build_sdist(sys.argv[1]))"
    )
    built = subprocess.run(
        [python, "-c", build, str(out)], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    wheel, sdist = out / built[-2], out / built[-1]
    version = importlib.metadata.version("ketenx")
    assert wheel.name == f"ketenx-{version}-py3-none-any.whl"
    schemas = {p.name: p.read_bytes() for p in SCHEMAS.iterdir()}
    licence = (ROOT / "LICENSE").read_bytes()

    with zipfile.ZipFile(wheel) as whl:
        for name, content in schemas.items():
            assert whl.read(f"ketenx/_schemas/{name}") == content
        info = f"ketenx-{version}.dist-info"
        assert whl.read(f"{info}/licenses/LICENSE") == licence
        metadata = whl.read(f"{info}/METADATA").decode()
    assert "License-Expression: EUPL-1.2" in metadata and f"Version: {version}" in metadata

    with tarfile.open(sdist) as tar:
        top = f"ketenx-{version}"

        def member(name: str) -> bytes:
            extracted = tar.extractfile(f"{top}/{name}")
            assert extracted is not None, name
            return extracted.read()

        for name, content in schemas.items():
            assert member(f"schemas/{name}") == content
            assert member(f"ketenx/_schemas/{name}") == content  # a wheel built from it has them
        assert member("LICENSE") == licence


# --- the licence -----------------------------------------------------------------------------


def test_the_licence_is_the_one_pyproject_names() -> None:
    """The complete English text of the EUPL v1.2 (as published by the European Commission)."""
    project = _pyproject()
    assert project["license"] == "EUPL-1.2" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("EUROPEAN UNION PUBLIC LICENCE v. 1.2\nEUPL © the European Union 2007")
    words = " ".join(text.split())
    articles = re.findall(r"(?<![\w.])(\d{1,2})\.\s?[A-Z]", words)
    assert [int(n) for n in articles] == list(range(1, 16))
    for phrase in (
        "Licensed under the EUPL",
        "‘Compatible Licences’ according to Article 5 EUPL are:",
        "Québec Free and Open-Source Licence — Reciprocity (LiLiQ-R)",
        "All other changes or additions to this Appendix require the production of a new EUPL"
        " version.",
    ):
        assert phrase in words, phrase
    assert words.endswith("a new EUPL version.")


# --- test helpers ----------------------------------------------------------------------------


def test_no_test_imports_conftest() -> None:
    """Shared helpers are in tests/helpers.py; conftest.py is pytest's, for fixtures only."""
    importing = re.compile(r"^\s*(from\s+(tests\.)?conftest\s+import|import\s+(tests\.)?conftest)")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if importing.match(line)
    ]
    assert offenders == []


def test_no_test_reads_the_wall_clock() -> None:
    """Time comes from fixed values (``tests.helpers.NOW``, ``now=``, ``--not-before``); polling
    with a bounded ``sleep`` is allowed, reading the clock is not."""
    clock = re.compile(
        r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time|time\.monotonic"
        r"|time\.perf_counter|time\.time_ns)\("
    )
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path != Path(__file__)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if clock.search(line)
    ]
    assert readers == []


def _ketenx_imports(path: Path) -> set[str]:
    """The ketenx modules a module imports (at the top, inside a function or for type checking
    only), resolved; ``from . import x`` gives ``package.x``."""
    import ast

    parts = path.relative_to(ROOT).with_suffix("").parts
    package = parts if parts[-1] == "__init__" else parts[:-1]
    package = tuple(p for p in package if p != "__init__")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            if not name.startswith("ketenx"):
                continue
            if node.module is None or name == "ketenx":
                found |= {f"{name}.{a.name}" for a in node.names}
            else:
                found.add(name)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ketenx")}
    return found


#: The layers of the package, bottom first (README "Architecture"): a module imports only
#: modules of its own package or of a lower layer. The foundation is the top-level modules.
LAYERS = ("", "storage", "records", "contract", "transform", "exchange", "_api", "_cli")


def _layer_of(module: str) -> int:
    parts = module.split(".")
    if module in ("ketenx", "ketenx.__main__"):
        return len(LAYERS)  # the package's front door and ``python -m ketenx``: the top
    if len(parts) > 2 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    if parts[1] in LAYERS and (ROOT / "ketenx" / parts[1]).is_dir():
        return LAYERS.index(parts[1])
    return 0


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "ketenx").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(p for p in parts if p != "__init__")] = path
    return found


def test_every_import_points_down_the_layers() -> None:
    """Issue 11 §2: dependencies point down only, function-level and type-checking imports
    included (nothing hides a cycle), and every ketenx module belongs to a known layer."""
    modules = _modules()
    for package in {m.split(".")[1] for m in modules if m.count(".") >= 2}:
        assert package in LAYERS, f"ketenx/{package} is in no layer"
    upward = []
    for module, path in modules.items():
        mine = _layer_of(module)
        for target in _ketenx_imports(path):
            if target not in modules:
                target = target.rsplit(".", 1)[0]  # ``from . import name``: an attribute
            assert target in modules, f"{module} imports the unknown {target}"
            theirs = _layer_of(target)
            if theirs > mine:
                upward.append(f"{module} -> {target}")
    assert not upward, "\n".join(upward)


_FOUNDATION_OF_STORAGE = frozenset({"ketenx.errors", "ketenx.kx1", "ketenx.rfc3339"})


def test_the_storage_layer_imports_only_downwards() -> None:
    """ketenx/storage is the bottom layer (issue 11 §2): it imports nothing of ketenx but its
    errors, the kx1 token shapes, RFC 3339 times and itself, also not inside a function."""
    for path in sorted((ROOT / "ketenx" / "storage").glob("*.py")):
        imports = _ketenx_imports(path)
        upward = {
            m
            for m in imports
            if m not in _FOUNDATION_OF_STORAGE and not m.startswith("ketenx.storage")
        }
        assert not upward, f"{path.name} imports {sorted(upward)}"
    assert _ketenx_imports(ROOT / "ketenx" / "storage" / "keys.py") >= {"ketenx.storage.fileio"}


def test_no_import_cycle_inside_a_package() -> None:
    """Inside a layer too, a module imports only modules below it (function-level and
    type-checking imports included): the import graph has no cycle. (The engine's row masks
    get the field compiler passed in; the Parquet reader asks the checker through
    ``records.batches.BatchChecker``.)"""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for target in _ketenx_imports(path):
            if target not in modules:
                target = target.rsplit(".", 1)[0]
            if target != module and not module.startswith(target + "."):
                targets.add(target)  # a package's own __init__ is not a dependency of it
        graph[module] = targets
    cycles = []
    done: set[str] = set()

    def walk(node: str, trail: list[str]) -> None:
        if node in trail:
            cycles.append(set(trail[trail.index(node) :]))
            return
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            walk(nxt, [*trail, node])
        done.add(node)

    for module in sorted(graph):
        walk(module, [])
    assert not [sorted(c) for c in cycles]
