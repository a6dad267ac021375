"""Exact risk figures, checked against a brute-force oracle written from the definitions."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketenx.records.validation import MISSING
from ketenx.transform.risk import Policy, RiskCounter, assess

QI = ("jaar", "pc4", "sekse")


def counter_for(rows: Sequence[dict[str, Any]], policy: Policy, batch: int = 7) -> RiskCounter:
    counter = RiskCounter(policy)
    names = (*policy.quasi_identifiers, *policy.sensitive)
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        columns = {n: [r.get(n, MISSING) for r in part] for n in names}
        counter.add(columns, len(part))
    return counter


def _same(a: Any, b: Any, missing: str) -> bool:
    empty_a, empty_b = a in (None, MISSING), b in (None, MISSING)
    if missing == "wildcard" and (empty_a or empty_b):
        return True
    if empty_a or empty_b:
        return empty_a and empty_b
    return (type(a) is type(b) and a == b) or (
        isinstance(a, int | float)
        and isinstance(b, int | float)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
        and a == b
    )


def oracle(rows: Sequence[dict[str, Any]], policy: Policy) -> dict[str, Any]:
    """Every figure from its definition, pair by pair."""
    n = len(rows)
    qi = policy.quasi_identifiers

    def twins(r: dict[str, Any]) -> list[dict[str, Any]]:
        return [s for s in rows if all(_same(r.get(q), s.get(q), policy.missing) for q in qi)]

    def exact(r: dict[str, Any]) -> list[dict[str, Any]]:
        return [s for s in rows if all(_same(r.get(q), s.get(q), "category") for q in qi)]

    sizes = [len(twins(r)) for r in rows]
    out: dict[str, Any] = {
        "smallest": min(sizes),
        "uniques": sizes.count(1),
        "below_k": sum(s < (policy.k or 0) for s in sizes),
        "average": sum(1 / s for s in sizes) / n,
        "max_risk": 1 / min(sizes),
    }
    for name in policy.sensitive:
        distinct, entropies = [], []
        for r in rows:
            values = Counter(repr((type(s.get(name)), s.get(name))) for s in exact(r))
            distinct.append(len(values))
            total = sum(values.values())
            entropies.append(
                math.exp(-sum(c / total * math.log(c / total) for c in values.values()))
            )
        out[f"l:{name}"] = min(distinct)
        out[f"e:{name}"] = min(entropies)
    return out


values = st.one_of(st.none(), st.sampled_from(["a", "b", "1"]), st.sampled_from([1, 2]))
rows_strategy = st.lists(
    st.fixed_dictionaries(dict.fromkeys(QI, values) | {"ziekte": st.sampled_from(["x", "y", "z"])}),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    rows=rows_strategy, missing=st.sampled_from(["category", "wildcard"]), batch=st.integers(1, 9)
)
def test_figures_equal_the_definitions(
    rows: list[dict[str, Any]], missing: Any, batch: int
) -> None:
    policy = Policy(QI, k=3, sensitive=("ziekte",), l=2, missing=missing)
    got = assess(counter_for(rows, policy, batch), suppress=False)
    want = oracle(rows, policy)
    assert got.records == len(rows)
    assert got.smallest_class == want["smallest"]
    assert got.sample_uniques == want["uniques"]
    assert got.records_below_k == want["below_k"]
    assert got.average_risk == pytest.approx(want["average"], abs=1e-6)
    assert got.max_record_risk == pytest.approx(want["max_risk"], abs=1e-6)
    assert got.l_distinct["ziekte"] == want["l:ziekte"]
    assert got.l_entropy["ziekte"] == pytest.approx(want["e:ziekte"], abs=1e-5)
    assert got.passed == (want["smallest"] >= 3 and want["l:ziekte"] >= 2)
    assert sum(got.class_sizes.values()) == got.classes


def test_a_small_table_by_hand() -> None:
    rows = [
        {"jaar": 2015, "pc4": "1234", "sekse": "V"},
        {"jaar": 2015, "pc4": "1234", "sekse": "V"},
        {"jaar": 2015, "pc4": "1234", "sekse": "M"},
        {"jaar": 2016, "pc4": "1234", "sekse": "M"},
        {"jaar": 2016, "pc4": "1234", "sekse": "M"},
        {"jaar": 2016, "pc4": "1234", "sekse": "M"},
    ]
    result = assess(counter_for(rows, Policy(QI, k=2)))
    assert (result.classes, result.smallest_class, result.sample_uniques) == (3, 1, 1)
    assert result.records_below_k == 1
    assert result.average_risk == pytest.approx(3 / 6)
    assert [f.rule for f in result.failures] == ["k-anonymity"]
    assert result.class_sizes["1"] == 1 and result.class_sizes["2"] == 1
    assert result.class_sizes["3-4"] == 1
    # Leaving out sekse merges everything of a year (3 and 3); leaving out jaar, 2 and 4.
    assert result.without == {"jaar": 2, "pc4": 1, "sekse": 3}


def test_types_are_told_apart() -> None:
    rows = [{"jaar": 1}, {"jaar": "1"}, {"jaar": True}, {"jaar": 1.0}]
    result = assess(counter_for(rows, Policy(("jaar",), k=1)))
    assert result.classes == 3  # 1 and 1.0 are one number; "1" and true are other values


def test_missing_category_is_the_conservative_default() -> None:
    rows = [{"jaar": 2015, "pc4": None}, *[{"jaar": 2015, "pc4": "1234"}] * 4]
    category = assess(counter_for(rows, Policy(("jaar", "pc4"), k=2)))
    wildcard = assess(counter_for(rows, Policy(("jaar", "pc4"), k=2, missing="wildcard")))
    assert Policy(("x",)).missing == "category"
    assert category.smallest_class == 1 and not category.passed
    assert wildcard.smallest_class == 5 and wildcard.passed


def test_suppression_within_the_allowance() -> None:
    rows = [*[{"jaar": 2015}] * 9, {"jaar": 2016}]
    allowed = assess(counter_for(rows, Policy(("jaar",), k=5, max_suppression=0.1)))
    assert allowed.passed and allowed.suppressed == 1 and allowed.records == 9
    assert allowed.smallest_class == 9 and len(allowed.suppressed_keys) == 1
    too_little = assess(counter_for(rows, Policy(("jaar",), k=5, max_suppression=0.05)))
    assert not too_little.passed and too_little.suppressed == 0
    assert [f.rule for f in too_little.failures] == ["k-anonymity"]


def test_average_risk_suppresses_smallest_classes_first() -> None:
    rows = [*[{"jaar": 2015}] * 6, *[{"jaar": 2016}] * 2, *[{"jaar": 2017}] * 2]
    policy = Policy(("jaar",), max_average_risk=0.2, max_suppression=0.5)
    result = assess(counter_for(rows, policy))
    # 3 classes / 10 records = 0.3; without one class of 2: 2 / 8 = 0.25; without both: 1/6.
    assert (
        result.passed
        and result.suppressed == 4
        and result.average_risk == pytest.approx(1 / 6, abs=1e-6)
    )


def test_l_diversity_and_entropy() -> None:
    rows = [
        *[{"jaar": 2015, "ziekte": "x"}] * 3,
        *[{"jaar": 2016, "ziekte": "x"}] * 2,
        {"jaar": 2016, "ziekte": "y"},
    ]
    distinct = assess(counter_for(rows, Policy(("jaar",), sensitive=("ziekte",), l=2)))
    assert distinct.l_distinct == {"ziekte": 1}
    assert [f.rule for f in distinct.failures] == ["l-diversity"]
    entropy = Policy(("jaar",), sensitive=("ziekte",), l=1, l_kind="entropy")
    assert assess(counter_for(rows, entropy)).l_entropy["ziekte"] == pytest.approx(1.0)


def test_policy_from_contract_uses_output_names() -> None:
    from ketenx.contract.model import load_contract
    from tests.helpers import ROOT, SAMPLE_CONTRACT

    policy = Policy.from_contract(load_contract(ROOT / "examples" / "contract.yaml"))
    assert policy.quasi_identifiers == ("leeftijdsgroep", "postcode", "geslacht")
    assert policy.k == 5 and policy.missing == "category" and policy.measured
    assert policy.max_suppression == 0.01
    unmeasured = Policy.from_contract(load_contract(SAMPLE_CONTRACT))
    assert unmeasured.quasi_identifiers == ("geboortedatum", "postcode", "geslacht")
    assert unmeasured.k is None and not unmeasured.measured
