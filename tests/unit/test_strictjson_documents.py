"""ketenx.records.strictjson.parse_document: size, depth and strictness of the JSON documents
exchanged with a partner (envelope, statement, metadata, bundle members)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ketenx.errors import InputFileError, VerificationError
from ketenx.records.strictjson import DOCUMENT_DEPTH as MAX_DEPTH
from ketenx.records.strictjson import parse_document as loads
from ketenx.records.strictjson import read_document as read

PLANTED = "Zoë-Jansen-111222333"


def _nested(kinds: list[str], leaf: Any = PLANTED) -> Any:
    value = leaf
    for kind in reversed(kinds):
        value = [value] if kind == "array" else {"k": value}
    return value


@settings(max_examples=150, deadline=None)
@given(kinds=st.lists(st.sampled_from(["array", "object"]), min_size=0, max_size=3 * MAX_DEPTH))
def test_depth_up_to_the_limit_is_accepted_and_beyond_refused(kinds: list[str]) -> None:
    document = _nested(kinds)
    text = json.dumps(document).encode()
    if len(kinds) <= MAX_DEPTH:
        assert loads(text, what="x", max_bytes=1 << 20, error=VerificationError) == document
        return
    with pytest.raises(VerificationError, match="nested deeper") as info:
        loads(text, what="x", max_bytes=1 << 20, error=VerificationError)
    assert PLANTED not in info.value.message


@settings(max_examples=60, deadline=None)
@given(
    depth=st.integers(min_value=MAX_DEPTH + 1, max_value=200_000),
    opener=st.sampled_from([b"[", b'{"a":', b"[1,", b'[{"a":']),
    closed=st.booleans(),
)
def test_any_deep_document_is_a_clean_error_never_a_recursion_error(
    depth: int, opener: bytes, closed: bool
) -> None:
    closer = b"]" if opener.startswith(b"[") and opener != b'[{"a":' else b"}"
    text = opener * depth + b"0" + (closer * depth if closed else b"")
    with pytest.raises(InputFileError) as info:
        loads(text, what="meta.json: delivery metadata", max_bytes=1 << 24, error=InputFileError)
    assert info.value.message.startswith("meta.json: delivery metadata ")


def test_brackets_inside_strings_are_not_nesting() -> None:
    text = json.dumps({"a": "[" * 10_000, "b": ['\\"[{', "}]" * 100]}).encode()
    assert loads(text, what="x", max_bytes=1 << 20, error=VerificationError)["a"] == "[" * 10_000


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b'{"a": 1, "a": 2}', "duplicate JSON member name"),
        (b"[NaN]", "NaN or Infinity"),
        (b"[-Infinity]", "NaN or Infinity"),
        (b'"\xff"', "not UTF-8"),
        ('{"a": 1}'.encode("utf-16"), "not UTF-8"),
        (b"1" * 5000, "not valid JSON"),  # more digits than Python converts
        (b"[1,", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"{} {}", "not valid JSON"),
    ],
)
def test_strict_json(text: bytes, reason: str) -> None:
    with pytest.raises(VerificationError, match=reason):
        loads(text, what="x", max_bytes=1 << 20, error=VerificationError)


def test_the_size_limit_is_exact_and_read_never_reads_more() -> None:
    text = b'["' + b"a" * 96 + b'"]'
    assert loads(text, what="x", max_bytes=100, error=VerificationError) == ["a" * 96]
    with pytest.raises(VerificationError, match="larger than 99 bytes"):
        loads(text, what="x", max_bytes=99, error=VerificationError)
    stream = io.BytesIO(text * 1000)
    with pytest.raises(VerificationError, match="larger than"):
        read(stream, what="x", max_bytes=99, error=VerificationError)
    assert stream.tell() == 100


@settings(max_examples=100, deadline=None)
@given(kinds=st.lists(st.sampled_from(["array", "object"]), min_size=0, max_size=6 * MAX_DEPTH))
def test_the_pre_parse_bound_keeps_the_parser_shallow(kinds: list[str]) -> None:
    """The bracket scan that runs before the parser: always passes what the limit accepts,
    never passes anything nested more than 4 times deeper (the parser's recursion stays
    far below Python's limit, whatever that is set to)."""
    from ketenx.records.strictjson import _shallow

    text = json.dumps(_nested(kinds, leaf="[{"))
    if len(kinds) <= MAX_DEPTH:
        assert _shallow(text, MAX_DEPTH)
    if len(kinds) > 4 * MAX_DEPTH:
        assert not _shallow(text, MAX_DEPTH)


# --- one decoder for the contract's JSON too (ketenx.contract.document) -------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"id": 1, "id": 2}', "contract has a key twice, at /id"),
        # a key that is not a safe name is shown by its place, never quoted
        ('{"s": {"Zoë-Jansen-111222333": 1, "Zoë-Jansen-111222333": 2}}', "at /s/<key 2>"),
        ('{"maximum": NaN}', "not valid JSON: NaN or Infinity"),
        ('{"maximum": 1e999}', "a number too large for a 64-bit float"),
    ],
)
def test_a_json_contract_is_read_by_the_one_strict_decoder(
    tmp_path: Any, text: str, expected: str
) -> None:
    from ketenx.contract.document import read_structured
    from ketenx.errors import ContractError

    path = tmp_path / "contract.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContractError) as info:
        read_structured(path, what="contract")
    assert expected in info.value.message
    assert PLANTED not in info.value.message


def test_one_open_for_reading_with_one_wording(tmp_path: Any) -> None:
    """storage.fileio.open_file: the contract reader, unpack and the data readers name a
    missing file or a directory the same way (only the noun differs)."""
    from ketenx.contract.document import read_structured
    from ketenx.errors import ContractError
    from ketenx.storage.fileio import open_file, open_input

    missing = tmp_path / "nope.json"
    for opener, expected in [
        (lambda: open_input(str(missing)), f"{missing}: file not found"),
        (lambda: open_file(missing), f"{missing}: file not found"),
        (lambda: open_file(tmp_path), f"{tmp_path}: is a directory, not a file"),
        (lambda: read_structured(missing, what="contract"), f"{missing}: contract not found"),
        (
            lambda: read_structured(tmp_path, what="contract"),
            f"{tmp_path}: contract is a directory, not a file",
        ),
    ]:
        with pytest.raises((InputFileError, ContractError)) as info:
            opener()
        assert info.value.message == expected
