"""The column-at-a-time shortcuts of ``pseudonymise`` give what the per-value code gives.

* ``bucket`` over a column of numbers (numpy ``searchsorted``) equals ``bisect`` per value,
  absent and null kept, at the edges and with integers near 2**53; anything that is not a
  plain number (a boolean, NaN, a string) still raises the per-value error;
* CSV quoting of a low-cardinality column (a dictionary of distinct cells) equals quoting
  cell by cell;
* the enum screen over strings and null says what the per-value check says.
"""

from __future__ import annotations

import bisect
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketenx.contract.model import FieldSpec
from ketenx.records.validation import MISSING, _members, _members_screen
from ketenx.records.writers import _quote, csv_column
from ketenx.transform.treatments import TreatmentError, _bucket_edges, bucket_labels, generalise


def bucket_spec(bins: list[float], **params: Any) -> FieldSpec:
    return FieldSpec(
        name="w", treatment="generalise", params={"to": "bucket", "bins": bins, **params}
    )


def per_value(spec: FieldSpec, col: list[Any]) -> list[Any]:
    edges, labels = _bucket_edges(spec), bucket_labels(spec)
    return [v if v is None or v is MISSING else labels[bisect.bisect_right(edges, v)] for v in col]


BINS = st.lists(
    st.one_of(st.integers(-100, 100), st.floats(-100, 100, allow_nan=False)),
    min_size=1,
    max_size=5,
    unique=True,
)
NUMBERS = st.one_of(
    st.integers(-150, 150),
    st.floats(-150, 150, allow_nan=False),
    st.floats(allow_nan=False),
    st.integers(2**53 - 3, 2**53 + 3),
    st.sampled_from([0, 0.0, -0.0, 10, 10.0, 9.999999999999998]),
    st.none(),
    st.just(MISSING),
)


@given(bins=BINS, col=st.lists(NUMBERS, max_size=30))
def test_bucket_over_a_column_equals_bisect_per_value(bins: list[float], col: list[Any]) -> None:
    spec = bucket_spec(bins)
    col = [*col, *(float(b) for b in bins), *(int(b) for b in bins)]  # values on the edges
    assert generalise(spec)(col) == per_value(spec, col)


@pytest.mark.parametrize("bad", [True, float("nan"), "12", [1]])
def test_bucket_of_a_non_number_still_fails_per_value(bad: Any) -> None:
    with pytest.raises(TreatmentError) as info:
        generalise(bucket_spec([10, 20]))([1, 2.5, None, bad, 30])
    assert info.value.index == 3


CELLS = st.one_of(
    st.sampled_from(["<10", "[10,20)", ">=80", "", "a", 'say "x"', "a\nb", "c\rd", "e,f"]),
    st.text(max_size=5),
)


@given(st.lists(CELLS, max_size=60))
def test_csv_quoting_of_a_column_equals_quoting_cell_by_cell(cells: list[str]) -> None:
    assert list(csv_column(cells)) == [_quote(c) for c in cells]


@given(
    allowed=st.lists(st.one_of(st.text(max_size=3), st.none()), min_size=1, max_size=4),
    col=st.lists(
        st.one_of(st.text(max_size=3), st.none(), st.integers(0, 2), st.booleans(), st.floats()),
        max_size=12,
    ),
)
def test_the_enum_screen_over_strings_and_null_agrees_with_the_check(
    allowed: list[Any], col: list[Any]
) -> None:
    check = _members(allowed)
    assert _members_screen(allowed)(col) == all(map(check, col))
