"""Keyless treatments, the output schema, and CSV formula neutralisation."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketenx.contract.model import FieldSpec, load_contract
from ketenx.errors import ContractError
from ketenx.records.validation import MISSING
from ketenx.records.writers import RecordWriter, neutralise, unneutralise, unneutralise_column
from ketenx.transform.transformer import output_schema
from ketenx.transform.treatments import (
    TreatmentError,
    bucket_labels,
    generalise,
    mask,
    output_property,
    redact,
)
from tests.helpers import SAMPLE_CONTRACT


def spec(treatment: str, **params) -> FieldSpec:
    return FieldSpec("f", treatment, params)


def test_redact_keeps_absent_and_null():
    fn = redact(spec("redact", replacement="X"))
    assert fn(["a", None, MISSING, 5]) == ["X", None, MISSING, "X"]


@pytest.mark.parametrize(
    ("params", "value", "expected"),
    [
        ({}, "geheim", "******"),
        ({"keep_last": 2}, "NL91ABNA0417164300", "*" * 16 + "00"),
        ({"keep_first": 2, "keep_last": 1, "mask_char": "#"}, "abcdef", "ab###f"),
        ({"keep_first": 3, "keep_last": 3}, "abcde", "*****"),  # too short: all masked
        ({"keep_last": 2}, 123456, "****56"),
    ],
)
def test_mask(params, value, expected):
    assert mask(spec("mask", **params))([value]) == [expected]


def test_generalise_dates():
    assert generalise(spec("generalise", to="year"))(["2015-03-02", None]) == [2015, None]
    assert generalise(spec("generalise", to="year-month"))(["2015-03-02T10:00:00Z"]) == ["2015-03"]


def test_generalise_pc4():
    assert generalise(spec("generalise", to="pc4"))(["1234 AB", "5678cd", MISSING]) == [
        "1234",
        "5678",
        MISSING,
    ]


def test_age_band_with_top_and_bottom_coding():
    fn = generalise(
        spec(
            "generalise", to="age-band", reference_date="2026-06-30", band_width=5, top=18, bottom=2
        )
    )
    # ages 11, 10 (birthday not yet), 18, 1, 17, 3
    assert fn(
        ["2015-01-01", "2015-07-01", "2008-06-30", "2025-01-01", "2008-07-01", "2023-01-01"]
    ) == ["10-14", "10-14", "18+", "<2", "15-17", "2-4"]


def test_age_band_labels_name_only_the_ages_they_hold():
    """Every label of a band covers exactly the ages that get it (top/bottom coding cuts
    the outer bands)."""
    fn = generalise(
        spec(
            "generalise", to="age-band", reference_date="2026-06-30", band_width=4, top=11, bottom=3
        )
    )
    seen: dict[str, set[int]] = {}
    for age in range(0, 20):
        (label,) = fn([f"{2026 - age}-01-01"])
        seen.setdefault(label, set()).add(age)
    for label, ages in seen.items():
        if "-" in label:
            low, high = map(int, label.split("-"))
            assert ages == set(range(low, high + 1)), label
    assert seen["<3"] == {0, 1, 2} and seen["11+"] == set(range(11, 20))


def test_age_band_needs_reference_date():
    with pytest.raises(ContractError):
        generalise(spec("generalise", to="age-band"))


def test_bucket():
    s = spec("generalise", to="bucket", bins=[30, 60, 90], top=200)
    assert generalise(s)([10, 30, 59.9, 90, 199, 250]) == [
        "<30",
        "[30,60)",
        "[30,60)",
        "[90,200)",
        "[90,200)",
        ">=200",
    ]
    assert bucket_labels(s) == ["<30", "[30,60)", "[60,90)", "[90,200)", ">=200"]


def test_generalise_failure_names_no_value():
    with pytest.raises(TreatmentError) as info:
        generalise(spec("generalise", to="year"))(["not-a-date-Zwanettetje"])
    assert "Zwanettetje" not in str(info.value)
    assert info.value.index == 0


def test_output_schema_of_sample_contract():
    schema = output_schema(load_contract(SAMPLE_CONTRACT))
    props = schema["properties"]
    assert set(props) == {
        "persoon_id",
        "geboortedatum",
        "geslacht",
        "postcode",
        "gemeente",
        "email_ouder",
        "lengte_cm",
        "gewicht_kg",
    }
    assert props["persoon_id"]["pattern"].startswith("^kx1_")
    assert props["email_ouder"]["type"] == ["string", "null"]
    assert props["postcode"]["pattern"] == "^[1-9][0-9]{3}$"
    assert schema["additionalProperties"] is False
    assert "persoon_id" in schema["required"] and "voornamen" not in schema["required"]


def test_output_property_for_drop_is_none():
    assert output_property(spec("drop"), {"type": "string"}) is None


@given(
    st.lists(
        st.one_of(
            st.text(max_size=6),
            st.text(alphabet="'=+-@\t\rab", max_size=5),
            st.integers(),
            st.none(),
        )
    )
)
def test_formula_neutralisation_round_trips(values):
    out = neutralise(values)
    assert all(not (isinstance(v, str) and v and v[0] in "=+-@\t\r") for v in out)
    back = [unneutralise(v) if isinstance(v, str) else v for v in out]
    assert back == values
    strings = [v for v in out if isinstance(v, str)]
    assert list(unneutralise_column(strings)) == [v for v in values if isinstance(v, str)]


def test_csv_writer_neutralises_string_columns_only():
    buf = io.BytesIO()
    writer = RecordWriter(buf, "csv", ["s", "n"], frozenset({"s"}))
    writer.write({"s": ["=1+1", "-x", "ok", None], "n": [-5, 3.5, MISSING, True]}, 4)
    writer.close()
    assert buf.getvalue().decode() == "s,n\n'=1+1,-5\n'-x,3.5\nok,\n,true\n"


def test_jsonl_writer_omits_absent():
    buf = io.BytesIO()
    writer = RecordWriter(buf, "jsonl", ["a", "b"], frozenset({"a"}))
    writer.write({"a": ["=x", MISSING], "b": [1, None]}, 2)
    writer.close()
    assert buf.getvalue().decode() == '{"a":"=x","b":1}\n{"b":null}\n'


def test_apostrophe_names_are_left_alone():
    cells = ["'s-Gravenhage", "'=x", "''+y"]
    assert neutralise(cells) == ["'s-Gravenhage", "''=x", "'''+y"]
    assert [unneutralise(v) for v in neutralise(cells)] == cells
