"""`ketenx risk` agrees with pycanon (an independent implementation of k-anonymity and
l-diversity, https://github.com/IFCA-Advanced-Computing/pycanon) on generated tables, with
the one documented difference: pycanon drops records with an empty quasi-identifier (pandas'
groupby does), so its k can be higher than the delivery's; ketenx counts an empty value as a
value of its own (`missing: category`, docs/privacy.md).

pycanon pins an older typer than ketenx's, so it is not installed beside ketenx: its pure
Python package is fetched into a temporary folder without its dependencies and imported from
there, next to the pandas and numpy of the test environment (the only ones its anonymity
measures use). Skips, saying why, when the package index cannot be reached.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import contract_document

pytestmark = [pytest.mark.interop, pytest.mark.slow]
PYCANON = "pycanon==1.3.6"
QIS = ["jaar", "pc4", "geslacht"]
SENSITIVE = ["diagnose"]


@pytest.fixture(scope="module")
def pycanon(tmp_path_factory: pytest.TempPathFactory) -> Any:
    pd = pytest.importorskip("pandas", reason="pandas is not installed (pip install -e '.[test]')")
    target = tmp_path_factory.mktemp("pycanon")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--disable-pip-version-check", "--target", str(target), PYCANON],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot install {PYCANON} from the package index: {done.stderr[-300:]}")
    sys.path.insert(0, str(target))
    try:
        from pycanon import anonymity  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(target))
    return anonymity, pd


def table(seed: int, rows: int, empty_rate: float) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    years = [str(y) for y in range(2006, 2006 + rng.randint(1, 6))]
    pc4s = [str(p) for p in rng.sample(range(1000, 9999), rng.randint(1, 5))]
    out = []
    for _ in range(rows):
        record: dict[str, Any] = {
            "jaar": rng.choice(years),
            "pc4": rng.choice(pc4s),
            "geslacht": rng.choice("MVX" if rng.random() < 0.2 else "MV"),
            "diagnose": rng.choice(["a", "b", "c", "d"][: rng.randint(1, 4)]),
        }
        for name in QIS:
            if rng.random() < empty_rate:
                record[name] = None
        out.append(record)
    return out


def ketenx_figures(run: Any, tmp_path: Path, records: list[dict[str, Any]]) -> dict[str, Any]:
    props = {n: {"type": ["string", "null"]} for n in [*QIS, *SENSITIVE]}
    doc = contract_document(
        "pycanon", {"type": "object", "properties": props},
        {n: {"treatment": "keep", "scan": False} for n in props},
        privacy={"quasi_identifiers": QIS, "sensitive": SENSITIVE, "k": 1, "l": 1},
    )  # fmt: skip
    contract = tmp_path / "c.yaml"
    contract.write_text(yaml.safe_dump(doc))
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    done = run("risk", data, "-c", contract, "--side", "output", "-f", "json")
    assert done.code == 0, done.out + done.err
    figures: dict[str, Any] = json.loads(done.out)["files"][0]
    return figures


@pytest.mark.parametrize("seed", range(12))
def test_k_and_l_agree_with_pycanon(pycanon: Any, run: Any, tmp_path: Path, seed: int) -> None:
    anonymity, pd = pycanon
    records = table(seed, rows=random.Random(seed).randint(5, 80), empty_rate=0.0)
    ours = ketenx_figures(run, tmp_path, records)
    frame = pd.DataFrame(records)
    assert ours["smallest_class"] == anonymity.k_anonymity(frame, QIS)
    assert ours["l_distinct"]["diagnose"] == anonymity.l_diversity(frame, QIS, SENSITIVE)
    # pycanon rounds entropy l down to an integer; ketenx reports it exactly.
    assert int(ours["l_entropy"]["diagnose"] + 1e-9) == anonymity.entropy_l_diversity(
        frame, QIS, SENSITIVE
    )


@pytest.mark.parametrize("seed", range(6))
def test_the_documented_difference_for_empty_values(
    pycanon: Any, run: Any, tmp_path: Path, seed: int
) -> None:
    """pycanon leaves out the records with an empty quasi-identifier; on the other records
    the two agree, and ketenx's k over all records is never higher than pycanon's."""
    anonymity, pd = pycanon
    records = table(100 + seed, rows=60, empty_rate=0.15)
    frame = pd.DataFrame(records)
    theirs = anonymity.k_anonymity(frame, QIS)
    complete = [r for r in records if all(r[n] is not None for n in QIS)]
    assert ketenx_figures(run, tmp_path, complete)["smallest_class"] == theirs
    assert ketenx_figures(run, tmp_path, records)["smallest_class"] <= theirs
