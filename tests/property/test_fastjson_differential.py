"""The orjson line decoder (:mod:`ketenx.records.fastjson`) equals the precise strict decoder.

Per line: the same value (types, float bits and the sign of zero included) or the same
exception (class, message, column). Per file: ``check`` of a JSON Lines file gives the same
report with the fast decoder as with the precise decoder alone, on generated schemas and
hostile lines: duplicate keys (top level, nested, hidden behind colons in strings and behind
``\\u003a`` escapes), big integers, long fractions, ``NaN``/``Infinity``, ``1e999``, lone and
paired surrogate escapes, deep nesting, BOMs, blank and white-space lines, CRLF, trailing
commas, control characters.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ketenx.records import fastjson, readers, validation
from ketenx.records.check import Checker
from ketenx.records.strictjson import DECODER, MAX_DEPTH
from ketenx.records.validation import RecordSchema
from tests.property.test_differential import SAMPLE_STRINGS, record_schemas
from tests.property.test_engine_differential import summary

KEYS = ["a", "b", "c", "d", "a:b", "é", "\u2028", "x\\u003ay"]

NUMBER_TEXTS = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["18446744073709551615", "18446744073709551616", "-9223372036854775808",
                     "-9223372036854775809", "9" * 19, "9" * 18, "1" + "0" * 40]),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.integers(-10000, 10000).map(lambda n: f"{n / 100:.2f}"),
    st.sampled_from(["-0", "-0.0", "0.0", "1e999", "-1e999", "1e-400", "1E2", "1e+2", "01",
                     "1.", ".5", "+1", "NaN", "Infinity", "-Infinity", "0.1000000000000000055511",
                     "19.99", "0.30000000000000004", "1.7976931348623157e308", "5e-324"]),
    st.from_regex(r"-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,22})?([eE][+-]?[0-9]{1,3})?", fullmatch=True),
)  # fmt: skip

STRING_TEXTS = st.one_of(
    st.sampled_from(SAMPLE_STRINGS).map(lambda s: json.dumps(s, ensure_ascii=False)),
    st.text(max_size=6).map(json.dumps),
    st.text(max_size=6).map(lambda s: json.dumps(s, ensure_ascii=False)),
    st.sampled_from(['"\\ud800"', '"\\udc00"', '"\\ud83d\\ude00"', '"\\uD83D\\uDE00"',
                     '"\\u003a"', '"a:b"', '"2024-01-01T10:00:00Z"', '"\\u0000"', '"\t"',
                     '"\\x"', '"\x7f"', '"\\/"', '"unterminated', '"\\u12"']),
)  # fmt: skip


@st.composite
def json_texts(draw: st.DrawFn, depth: int = 0) -> str:
    """Mostly JSON, sometimes nearly: keys repeat, separators go astray."""
    kind = draw(st.integers(0, 9 if depth < 3 else 5))
    if kind <= 1:
        number: str = draw(NUMBER_TEXTS)
        return number
    if kind <= 3:
        return draw(STRING_TEXTS)
    if kind == 4:
        return draw(st.sampled_from(["true", "false", "null", "nul", "True"]))
    if kind == 5:
        return draw(st.sampled_from(["[]", "{}", "[1,]", '{"a":1,}', "[", '{"a"}', '{"a":}']))
    if kind <= 7:
        items = draw(st.lists(json_texts(depth + 1), max_size=4))
        return "[" + draw(st.sampled_from([",", ", ", " , "])).join(items) + "]"
    keys = draw(st.lists(st.sampled_from(KEYS), max_size=5))  # repeats: duplicate keys
    colon = st.sampled_from([":", " : ", ":"])
    members = [json.dumps(k) + draw(colon) + draw(json_texts(depth + 1)) for k in keys]
    if keys and draw(st.integers(0, 5)) == 0:
        members[-1] = '"a\\u003a":' + draw(json_texts(depth + 1))
    return "{" + ",".join(members) + "}"


@st.composite
def hostile_lines(draw: st.DrawFn) -> str:
    body = draw(json_texts())
    kind = draw(st.integers(0, 9))
    if kind == 0:
        body = "[" * (MAX_DEPTH + draw(st.integers(-1, 2))) + "]" * MAX_DEPTH
    elif kind == 1:
        body = "\ufeff" + body
    elif kind == 2:
        body = " " + body + " \r"
    elif kind == 3:
        body = body + draw(st.sampled_from([" x", ",", "}", "\x00", "\u00a0"]))
    return body


def outcome(decode: Any, line: str) -> tuple[Any, ...]:
    try:
        value = decode(line)
    except Exception as exc:  # any exception: compared whole
        return ("raised", type(exc), str(exc), getattr(exc, "colno", None))
    return ("value", typed(value))


def typed(value: Any) -> Any:
    """``value`` with each leaf's type and (for floats) its bits and sign shown."""
    if isinstance(value, dict):
        return ("dict", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float):
        return ("float", value.hex(), math.copysign(1.0, value))
    return (type(value).__name__, value)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(line=hostile_lines())
@example(line='{"a":1,"a":2}')
@example(line='{"a":"x:y","a":2}')
@example(line='{"a":"\\u003a","a":1}')
@example(line='{"a":{"b":1,"b":2}}')
@example(line='[{"a":1},{"a":1,"a":1}]')
@example(line='{"a":123456789012345678901234567890}')
@example(line='{"t":"2024-01-01T10:00:00Z","t":"x"}')
@example(line='{"a":-9223372036854775809,"b":[18446744073709551616]}')
@example(line='{"a":9.5e18,"b":1e19}')
@example(line="1" + "0" * 4400)
def test_fast_decoder_equals_precise_decoder(line: str) -> None:
    assert outcome(fastjson.decode, line) == outcome(DECODER.decode, line)


def test_screens_can_fail() -> None:
    """The screens matter: orjson alone differs on each (so the test above can fail)."""
    import orjson

    for line in ['{"a":1,"a":2}', "123456789012345678901234567890", '{"a":{"b":1,"b":2}}']:
        assert outcome(orjson.loads, line) != outcome(DECODER.decode, line)
        assert outcome(fastjson.decode, line) == outcome(DECODER.decode, line)


@st.composite
def jsonl_files(draw: st.DrawFn, names: list[str]) -> bytes:
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 9))
        if kind <= 5:
            members = [json.dumps(n) + ":" + draw(json_texts(2)) for n in
                       draw(st.lists(st.sampled_from([*names, "zz"]), max_size=5))]  # fmt: skip
            lines.append("{" + ",".join(members) + "}")
        elif kind <= 7:
            lines.append(draw(hostile_lines()))
        else:
            lines.append(draw(st.sampled_from(["", " ", "\r", "\t"])))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    raw = end.join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        raw += end.encode()
    if draw(st.integers(0, 5)) == 0:
        raw = b"\xef\xbb\xbf" + raw
    if draw(st.integers(0, 9)) == 0:
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut] + draw(st.sampled_from([b"\x00", b"\xff", b"\xc3"])) + raw[cut:]
    return raw


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_jsonl_report_with_fast_decoder_equals_precise(data: st.DataObject) -> None:
    schema = data.draw(record_schemas())
    raw = data.draw(jsonl_files(list(schema["properties"])))
    compiled = RecordSchema(schema)

    def run() -> tuple[Any, ...]:
        return summary(Checker(compiled, max_errors=7).check(io.BytesIO(raw), "jsonl"))

    fast = run()
    with mock.patch.object(readers, "fast_decode", DECODER.decode):
        precise = run()
    assert fast == precise


@settings(max_examples=2000, deadline=None)
@given(
    value=st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(-(10**8), 10**8).map(lambda n: n / 100),
        st.integers(-(10**8), 10**8).map(lambda n: n / 1000),
        st.integers(),
    ),
    places=st.integers(0, 6),
)
def test_places_screen_passes_only_multiples(value: float, places: int) -> None:
    """The bulk ``multipleOf`` screen for divisors ``10**-k`` passes a number only when the
    exact per-value test does (a fail goes to the per-value test, so only passes matter)."""
    divisor = float(f"1e-{places}") if places else 1
    assert validation._decimal_places(divisor) == places
    if validation._places_screen(places, [value]):
        assert validation.is_multiple(value, divisor)
    if isinstance(value, float) and validation.is_multiple(value, divisor):
        assert validation._places_screen(places, [value])  # and it is not useless


def test_decimal_places_only_for_powers_of_ten() -> None:
    for m in [0.25, 0.5, 2, 3, 0.03, 1e-400, -0.01, True, 20]:
        assert validation._decimal_places(m) is None
    assert [validation._decimal_places(m) for m in [1, 1.0, 0.1, 0.01, 0.001]] == [0, 0, 1, 2, 3]


NEAR_JSON = ['{"a":1.}', '{"a":-}', '{"a":1e}', '{"a":0x1}', '{"a":-01}', '{"a":1_000}', "'a'",
             "{a:1}", "[1 2]", '{"a":1 "b":2}', '"\\a"', '"\\U0041"', "[true false]", "nulls",
             '{"a":truee}']  # fmt: skip
ODD_SPACE = ["\f", "\v", "\x85", "\u00a0", "\u2028", "\u3000", "\x1c", "\x1f", "\u200b", "\ufeff"]


def test_odd_white_space_and_near_json() -> None:
    """White space JSON does not allow, in every place, and texts that are nearly JSON."""
    lines = [*NEAR_JSON]
    for ws in ODD_SPACE:
        lines += [ws + '{"a":1}', '{"a":1}' + ws, "{" + ws + '"a":1}', '["' + ws + '"]',
                  '{"a"' + ws + ":1}", "[1" + ws + ",2]"]  # fmt: skip
    for line in lines:
        assert outcome(fastjson.decode, line) == outcome(DECODER.decode, line), repr(line)
