"""encrypt → reidentify gives back exactly what was sent: arbitrary Unicode (surrounding and
odd white space, non-NFC forms, letter case, formula starters, quotes and line breaks), in
every delivery format, through the files that `pseudonymise` and `reidentify` write."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketenx.exchange.delivery import write_pseudonymised, write_reidentified
from ketenx.records.writers import unneutralise
from ketenx.storage.secrets import new_secret
from tests.helpers import NOW, make_contract

CONTRACT = make_contract(
    "roundtrip",
    {
        "type": "object",
        "properties": {
            "id": {"type": "string", "minLength": 1},
            "note": {"type": "string", "minLength": 1},
            "mail": {"type": "string", "format": "email"},
            "count": {"type": "integer"},
        },
        "required": ["id", "note", "mail", "count"],
        "additionalProperties": False,
    },
    {
        "id": {"treatment": "pseudonymise"},
        "note": {"treatment": "encrypt", "as": "notitie"},
        "mail": {"treatment": "encrypt"},
        "count": {"treatment": "encrypt"},
    },
)

# Any Unicode text without lone surrogates (not text) and without NUL (never in a text file).
any_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=30
)
padding = st.text(alphabet=" \t\u00a0\u3000\u2028", max_size=3)
emails = st.builds(  # letter case is kept: `encrypt` does not lower-case an e-mail address
    lambda local, domain: f"{local}@{domain}.NL",
    st.from_regex(r"[A-Za-z0-9.]{1,8}", fullmatch=True),
    st.from_regex(r"[A-Za-z]{1,8}", fullmatch=True),
)
records = st.lists(
    st.fixed_dictionaries(
        {
            "id": any_text.filter(str.strip),  # keyed after NFC + trim: must stay non-empty
            "note": st.one_of(
                any_text,
                st.builds(lambda p, t, q: p + t + q, padding, any_text, padding),
                st.sampled_from(["Zoe\u0308", "ﬁ", "=1+1", "'=x", "-5", "\r\n", '"a,b"']),
            ),
            "mail": emails,
            "count": st.integers(-(2**63), 2**63),
        }
    ),
    min_size=1,
    max_size=6,
)


def read_back(path: Path, fmt: str) -> list[dict[str, Any]]:
    text = path.read_bytes().decode("utf-8")  # no newline translation
    if fmt == "json":
        return json.loads(text)  # type: ignore[no-any-return]
    if fmt == "jsonl":
        return [json.loads(line) for line in text.split("\n") if line]
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    return [
        {
            "notitie": unneutralise(r["notitie"]),
            "mail": unneutralise(r["mail"]),
            "count": r["count"],
        }
        for r in rows
    ]


def write_input(path: Path, fmt: str, recs: list[dict[str, Any]]) -> None:
    if fmt == "json":
        path.write_text(json.dumps(recs, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records, st.sampled_from(["csv", "jsonl", "json"]))
def test_encrypt_then_reidentify_gives_back_exactly_what_was_sent(
    recs: list[dict[str, Any]], fmt: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        data, keys = base / "data", base / "keys"
        data.mkdir()
        keys.mkdir(mode=0o700)
        secret = keys / "s.secret"
        new_secret(secret)
        src = data / ("in.json" if fmt == "json" else "in.jsonl")
        write_input(src, fmt, recs)
        out, back = data / f"out.{fmt}", data / f"back.{fmt}"
        common = {"contract": CONTRACT, "secret": secret}
        write_pseudonymised(data=str(src), output=out, to=fmt, now=NOW, **common)  # type: ignore[arg-type]
        delivered = out.read_bytes().decode("utf-8")
        for r in recs:  # nothing readable leaves the building
            assert (
                json.dumps(r["note"], ensure_ascii=False)[1:-1] not in delivered
                or len(r["note"].strip()) < 4
            )
        write_reidentified(data=out, output=back, **common)  # type: ignore[arg-type]
        got = read_back(back, fmt)
    assert [r["notitie"] for r in got] == [r["note"] for r in recs]
    assert [r["mail"] for r in got] == [r["mail"] for r in recs]
    # a number comes back as the number (as its digits in CSV, which has no types)
    want = [r["count"] if fmt != "csv" else str(r["count"]) for r in recs]
    assert [r["count"] for r in got] == want
