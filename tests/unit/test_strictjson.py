"""The strict JSON decoder and the data readers built on it: duplicate keys, nesting
depth, numbers out of range, and value-free refusals."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketenx.records import readers
from ketenx.records.readers import Malformed, json_array_batches, jsonl_batches
from ketenx.records.strictjson import MAX_DEPTH, StrictJsonError, duplicate_at, loads, too_deep


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("text", "rule", "where"),
    [
        ('{"a": 1, "a": 2}', "duplicate-key", "/a"),
        ('{"a": {"b": [1, {"c": 1, "c": 2}]}}', "duplicate-key", "/a/b/1/c"),
        ('{"Jan Jansen": 1, "Jan Jansen": 2}', "duplicate-key", "/<key 2>"),
        ('{"x": {"123456782": {"k": 1, "k": 1}}}', "duplicate-key", "/x/<key 1>/k"),
        (nested(MAX_DEPTH + 1), "json-syntax", ""),
        (nested(100_000), "json-syntax", ""),
        ('{"a": NaN}', "json-syntax", ""),
        ('{"a": 1e400}', "json-syntax", ""),
        ('{"a": 1', "json-syntax", ""),
    ],
)
def test_loads_refuses_with_a_value_free_error(text, rule, where):
    with pytest.raises(StrictJsonError) as caught:
        loads(text, max_bytes=1 << 20)
    assert (caught.value.rule, caught.value.where) == (rule, where)
    for planted in ("Jan Jansen", "123456782"):
        assert planted not in str(caught.value)


def test_loads_accepts_strict_json_up_to_the_limits():
    assert loads(nested(MAX_DEPTH), max_bytes=1 << 20) == json.loads(nested(MAX_DEPTH))
    assert loads(b'\xef\xbb\xbf{"a": [1, 2.5, "x"]}', max_bytes=100) == {"a": [1, 2.5, "x"]}
    with pytest.raises(StrictJsonError, match="longer than 10 bytes"):
        loads("[" + "1," * 10 + "1]", max_bytes=10)
    with pytest.raises(StrictJsonError) as caught:
        loads(b'"\xff"', max_bytes=10)
    assert caught.value.rule == "encoding"


@given(st.recursive(st.none() | st.integers(), lambda c: st.lists(c, max_size=3), max_leaves=40))
def test_too_deep_agrees_with_the_real_depth(value):
    def depth(v):
        return 1 + max(map(depth, v), default=0) if isinstance(v, list) else 0

    text = json.dumps(value)
    assert too_deep(text, value) == (depth(value) > MAX_DEPTH)
    deeper = [[value]] * 2
    for _ in range(MAX_DEPTH):
        deeper = [deeper]
    assert too_deep(json.dumps(deeper), deeper)


def test_duplicate_at_names_the_first_duplicate_in_document_order():
    assert duplicate_at('[{"a": 1}, {"b": {"c": 1, "c": 2}, "b": 3}]') == "/1/b/c"
    assert duplicate_at("not json") == ""


# --- the readers ------------------------------------------------------------------------------


def items(batches) -> list:
    return [item for batch in batches for item in batch]


def test_jsonl_duplicate_keys_are_malformed_lines_and_reading_goes_on():
    data = b'{"a": 1}\n{"a": 1, "a": 2}\n{"o": {"Jan Jansen": 1, "Jan Jansen": 2}}\n{"b": 2}\n'
    got = items(jsonl_batches(io.BytesIO(data)))
    assert got[0] == {"a": 1} and got[3] == {"b": 2}
    assert [(m.record, m.rule, m.field) for m in got[1:3]] == [
        (2, "duplicate-key", "/a"),
        (3, "duplicate-key", "/o/<key 2>"),
    ]
    assert "Jan Jansen" not in str(got[2])


@pytest.mark.parametrize("block", [3, 7, 64, 1 << 20])
def test_json_array_duplicate_keys_across_block_ends(monkeypatch, block):
    monkeypatch.setattr(readers, "BLOCK_BYTES", block)
    data = b'[{"a": 1}, {"x": {"k": 1, "k": 2}, "y": [1, 2, 3]}, {"b": 2}, {"c": 1, "c": 1}]'
    got = items(json_array_batches(io.BytesIO(data)))
    assert got[0] == {"a": 1} and got[2] == {"b": 2}
    assert all(isinstance(m, Malformed) for m in (got[1], got[3]))
    assert [(m.record, m.field) for m in (got[1], got[3])] == [(2, "/x/k"), (4, "/c")]


def test_json_array_element_with_a_duplicate_that_never_closes():
    with pytest.raises(Malformed) as caught:
        items(json_array_batches(io.BytesIO(b'[{"a": 1}, {"x": {"k": 1, "k": 2}, "y": [1')))
    assert (caught.value.record, caught.value.rule) == (2, "json-syntax")


@pytest.mark.parametrize("depth", [MAX_DEPTH, MAX_DEPTH + 1, 900, 100_000])
def test_readers_limit_the_depth_of_a_record(depth):
    body = "[" * depth + "]" * depth
    deep = depth > MAX_DEPTH
    (line,) = items(jsonl_batches(io.BytesIO(body.encode() + b"\n")))
    assert isinstance(line, Malformed) == deep
    if depth <= 900:  # the C parser's own limit stops the rest before the element ends
        got = items(json_array_batches(io.BytesIO(f"[{body}, 1]".encode())))
        assert isinstance(got[0], Malformed) == deep and got[1] == 1
    else:
        with pytest.raises(Malformed, match="nested deeper"):
            items(json_array_batches(io.BytesIO(f"[{body}, 1]".encode())))


def test_brackets_inside_strings_do_not_count_as_nesting():
    line = json.dumps({"a": "[{" * 500, "b": [[{"c": "]}" * 500}]]}).encode()
    (got,) = items(jsonl_batches(io.BytesIO(line + b"\n")))
    assert got["b"][0][0]["c"].startswith("]}")
    (got,) = items(json_array_batches(io.BytesIO(b"[" + line + b"]")))
    assert isinstance(got, dict)


def test_objects_count_as_levels_too():
    value: object = 1
    for i in range(MAX_DEPTH):
        value = {"k": value} if i % 2 else [value]
    assert not too_deep(json.dumps(value), value)
    assert too_deep(json.dumps({"k": value}), {"k": value})
