"""``fastjson._counted`` (one ``orjson.dumps``) gives ``fastjson._walk``'s verdict on every
value orjson can read: keys and strings with colons, floats around 9e18 and beyond, texts
that look like big floats, deep and wide nesting."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ketenx.records.fastjson import _counted, _walk

TEXTS = st.one_of(
    st.sampled_from(["", "a:b", "::", "e+18", "1e+19", "9" * 19, "x", "\u00e9:", "12:30"]),
    st.text(max_size=6),
)
FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([9e18, -9e18, 8.99e18, 9.2e18, 1e19, 1e16, 5e15, 1e300, -0.0, 9.999e17]),
)
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), FLOATS, TEXTS),
    lambda c: st.one_of(st.lists(c, max_size=4), st.dictionaries(TEXTS, c, max_size=4)),
    max_leaves=20,
)


def _colons(value: Any) -> int:
    """The colons a JSON text of ``value`` has: one per key, plus those in keys and strings."""
    if isinstance(value, dict):
        return sum(1 + k.count(":") + _colons(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(map(_colons, value))
    return value.count(":") if isinstance(value, str) else 0


@given(VALUES, st.integers(-2, 2))
def test_counted_equals_the_walk(value: Any, off: int) -> None:
    colons = _colons(value) + off
    assert _counted(value, colons) == _walk(value, colons)


def test_a_big_float_is_never_counted_as_plain() -> None:
    assert not _counted({"a": 9e18}, 1)
    assert not _counted({"a": [1, {"b": -1.5e19}]}, 2)
    assert _counted({"a": 8.9e17}, 1)
    assert _counted({"a": "e+18"}, 1)  # the walk decides: a string, not a float
    assert _counted({"a": 2**64 - 1}, 1)  # orjson's largest integer, exact
