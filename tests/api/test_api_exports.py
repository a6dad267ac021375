"""``import ketenx``: what it exports, that every export resolves and is documented, and that
importing it (and ``ketenx --version``) loads nothing heavy."""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys

import ketenx
from tests.helpers import ROOT

#: Modules that only a verb may load: third-party libraries and ketenx's working modules.
HEAVY = (
    "cryptography",
    "jsonschema",
    "yaml",
    "pyrage",
    "ketenx.transform.pipeline",
    "ketenx.records.check",
    "ketenx.contract.model",
    "ketenx._api.verbs",
)


def _loaded_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_import_ketenx_loads_nothing_heavy() -> None:
    loaded = _loaded_after("import ketenx")
    assert not [m for m in loaded if m.startswith(HEAVY)]
    assert not [m for m in loaded if m.startswith("ketenx.") and m != "ketenx._version"]


def test_a_result_class_loads_no_verb() -> None:
    loaded = _loaded_after("from ketenx import PseudonymiseResult, KetenxError")
    assert not [m for m in loaded if m.startswith(HEAVY)]


def test_the_version_command_loads_no_working_module() -> None:
    code = (
        "from ketenx._cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass"
    )
    loaded = _loaded_after(code)
    assert not [m for m in loaded if m.startswith(HEAVY)], sorted(loaded)


def test_every_export_resolves() -> None:
    for name in ketenx.__all__:
        assert getattr(ketenx, name) is not None, name
    assert set(ketenx.__all__) == {"__version__", *ketenx._EXPORTS}
    assert sorted(dir(ketenx)) == sorted(set(dir(ketenx)))
    assert set(ketenx.__all__) <= set(dir(ketenx))


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        ketenx.no_such_verb  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_verb" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("ketenx.no_such_verb resolved")


def test_no_module_of_the_package_is_named_like_a_verb() -> None:
    """A module ``ketenx.check`` would hide the verb once imported: the layers keep such
    modules in their packages (``ketenx.records.check``), and the verb stays a function."""
    import importlib.util

    import ketenx.records.check
    import ketenx.transform.risk
    import ketenx.transform.scan

    for name in ketenx.__all__:
        assert importlib.util.find_spec(f"ketenx.{name}") is None, name
    for name in ("check", "risk", "scan"):
        assert inspect.isfunction(getattr(ketenx, name)), name
        assert getattr(ketenx, name).__module__ == "ketenx._api.verbs"


def test_results_are_frozen_dataclasses_and_errors_have_one_root() -> None:
    for name in ketenx._RESULTS:
        cls = getattr(ketenx, name)
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, name
    for name in ketenx._ERRORS[:-1]:
        assert issubclass(getattr(ketenx, name), ketenx.KetenxError), name


def test_every_export_is_documented() -> None:
    page = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
    missing = [name for name in ketenx.__all__ if f"`{name}" not in page]
    assert not missing
    for name in ketenx._VERBS:
        assert inspect.getdoc(getattr(ketenx, name)), name


def test_every_cli_wording_names_a_library_error() -> None:
    """The command line rewords library refusals by class name: each one must exist."""
    import importlib

    from ketenx._cli import _wording

    for module_name, table in _wording._WORDINGS.items():
        module = importlib.import_module(module_name)
        for class_name in table():
            cls = getattr(module, class_name)
            assert issubclass(cls, ketenx.KetenxError), class_name
