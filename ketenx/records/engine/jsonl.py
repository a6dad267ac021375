"""JSON Lines through the columnar engine: pieces of whole lines parsed by pyarrow's JSON
reader into typed columns and screened as Parquet columns are (docs/check.md, "The columnar
engine").

A JSON Lines line is one record and JSON text never holds a raw line break, so a file is cut
into pieces at line ends. A piece is parsed with every property's Arrow type given (a
``string`` field as ``string``, an ``integer`` field as ``int64``, a ``number`` field as
``float64``, a ``boolean`` field as ``bool``) and other keys refused: pyarrow then refuses a
value of another JSON type, a nested value, a key given twice and bad syntax. What pyarrow
accepts and the strict decoder (:mod:`ketenx.records.strictjson`) does not, or reads as a
different value, is screened out before a piece is trusted; such a piece, and a piece with a
broken rule, is read and judged by the precise path (the same report):

* ``NaN`` and ``Infinity`` (pyarrow reads them): a non-finite number;
* an integer beyond 2^53 in a ``number`` field (pyarrow rounds it to a double, the strict
  decoder keeps it exact): any number of that magnitude;
* two records on one line, and blank lines (pyarrow skips them, the records would be
  numbered otherwise): the rows must be the piece's lines, and no line may be blank;
* an explicit ``null`` (pyarrow's null is also an absent key): the piece's ``:`` are one per
  key with a value, plus those inside the strings (a ``:`` is in a string's text exactly when
  it is in its value, but for ``\\u003a``), plus one per key written with ``null``; so the
  count tells whether the nulls of a piece are all written, all absent, or some of each, and
  a piece is screened only where that is enough to judge them (a written ``null`` of a field
  that allows it, an absent key of a field that is not required);
* ``\\u003a`` (an escaped colon), escaped control characters and surrogates, a byte
  order mark after the file's start, NUL bytes and invalid UTF-8: not screened;
* an empty string (in the screen's CSV form it would be an empty cell).

A piece that passes builds no record: the records are decoded from its lines by the precise
path's own decoder when a consumer asks (:class:`~ketenx.records.batches.JsonBatch`).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator, Mapping
from functools import partial
from typing import IO, TYPE_CHECKING, Any, Final

from ..batches import BatchChecker, FileReport, JsonBatch
from ..readers import BATCH_ROWS, MAX_RECORD_BYTES, jsonl_batches_at, jsonl_records
from ..validation import declared_types
from .csvsource import parsed_ahead, use_lean_memory_pool

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

    from .plan import Plan

PIECE_BYTES: Final = 1 << 20
_BOM: Final = b"\xef\xbb\xbf"
_LIMIT: Final = 2.0**53
#: Escapes that send a piece to the precise path: of a control character, a colon (the key
#: count below), a surrogate.
_ESCAPES: Final = re.compile(rb"\\u00[01]|\\u003|\\u[dD]")


def _lines_if_plain(piece: bytes) -> int | None:
    """The number of lines of a piece; ``None`` unless every line starts with ``{`` (so a
    line is not blank, which pyarrow skips; not ``null``, which pyarrow reads as a row of
    nulls; and not the rest of a record begun on the line before: for a flat schema that
    could only go on with ``{``, a nested object pyarrow refuses), or when the piece holds an
    escape of :data:`_ESCAPES`, a byte order mark or a NUL byte. By numpy over the bytes; the
    regular expression runs only where a backslash is."""
    import numpy as np

    if b"\x00" in piece or not piece.startswith(b"{"):
        return None
    data = np.frombuffer(piece, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    starts = data[ends[ends < len(data) - 1] + 1]  # the first byte of each line after the first
    if (starts != 0x7B).any():
        return None
    if (data == 0x5C).any() and _ESCAPES.search(piece) is not None:
        return None
    if (data == 0xEF).any() and _BOM in piece:
        return None
    return len(ends) + (not piece.endswith(b"\n"))


_KINDS: Final = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}


def kinds_for(checker: BatchChecker, plan: Plan) -> dict[str, str] | None:
    """Per property, the JSON type its values are parsed as; ``None`` when a property holds
    more than one type (besides null), or one the screen does not read, or the plan or the
    checker asks for the precise path."""
    schema = checker.schema
    if not checker.engine or checker.normalise or plan.precise is not None:
        return None
    root = schema.schema
    props = root.get("properties")
    if not isinstance(props, Mapping) or not props:
        return None
    kinds: dict[str, str] = {}
    for name, sub in props.items():
        program = plan.fields.get(name)
        if program is None or program.precise is not None or program.native is not None:
            return None
        types = declared_types(sub, root)
        if types is None:
            return None
        given = types - {"null", "integer"} if "number" in types else types - {"null"}
        if len(given) != 1 or (kind := _KINDS.get(next(iter(given)))) is None:
            return None
        if (kind == "string") != program.strings:
            return None
        kinds[name] = kind
    return kinds


def _arrow_schema(kinds: Mapping[str, str]) -> pa.Schema:
    import pyarrow as pa

    types = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64()}
    return pa.schema([(n, types.get(k, pa.bool_())) for n, k in kinds.items()])


class _Pieces:
    """Pieces of whole lines of a JSON Lines stream (the first without its byte order mark),
    with the count of lines before each; the rest of the stream for the precise path when a
    line is longer than a record may be."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._buf = b""
        self._eof = False
        self.rest: IO[bytes] | None = None
        self._head = b""  # the first bytes of the rest (see following)
        self.ahead = b""  # a piece cut and being parsed, not given yet (see following)

    def _fill(self, size: int) -> None:
        while not self._eof and len(self._buf) < size:
            chunk = self._stream.read(max(size - len(self._buf), PIECE_BYTES))
            if chunk:
                self._buf += chunk
            else:
                self._eof = True

    def following(self) -> bytes:
        """What follows the pieces given so far (for the readers' look-ahead past a break)."""
        from ..readers import BINARY_LOOKAHEAD

        if self.rest is not None:  # the stream now reads on for the rest: its head follows
            return (self.ahead + self._head)[:BINARY_LOOKAHEAD]
        if len(self.ahead) < BINARY_LOOKAHEAD:
            self._fill(BINARY_LOOKAHEAD)
        return (self.ahead + self._buf)[:BINARY_LOOKAHEAD]

    def parsed(
        self, arrow_schema: pa.Schema
    ) -> Iterator[tuple[bytes, int | None, pa.Table | None]]:
        """The pieces, their lines where every line is a plain record (:func:`_lines_if_plain`)
        and then their tables (:func:`_parse`), the next piece parsed on a helper thread
        while the caller judges one (:func:`~ketenx.records.engine.csvsource.parsed_ahead`).
        pyarrow never sees a piece whose lines are not plain records (pyarrow 26 crashes on
        some: a piece that starts with ``null``)."""

        def parse(piece: bytes) -> tuple[int | None, pa.Table | None]:
            lines = _lines_if_plain(piece)
            return lines, None if lines is None else _parse(piece, arrow_schema)

        def cut_ahead(piece: bytes | None) -> None:
            self.ahead = piece or b""  # cut, not given yet: it follows the piece given

        with contextlib.closing(parsed_ahead(self, parse, cut_ahead)) as pieces:
            for piece, (lines, table) in pieces:
                yield piece, lines, table

    def __iter__(self) -> Iterator[bytes]:
        self._fill(PIECE_BYTES)
        if self._buf.startswith(_BOM):  # (the precise reader drops it too)
            self._buf = self._buf[len(_BOM) :]
        while True:
            self._fill(PIECE_BYTES)
            buf = self._buf
            if not buf:
                return
            cut = buf.rfind(b"\n") + 1
            while not cut and not self._eof and len(buf) <= MAX_RECORD_BYTES:
                self._fill(len(buf) + PIECE_BYTES)
                buf = self._buf
                cut = buf.rfind(b"\n") + 1
            if not cut and not self._eof:  # a line longer than any record: the precise path
                self.rest = _joined(buf, self._stream)
                self._head = buf[: 1 << 16]
                self._buf = b""
                return
            piece = buf[:cut] if cut else buf  # (no line end: the file's last line)
            self._buf = buf[len(piece) :]
            yield piece


def _joined(head: bytes, stream: IO[bytes]) -> IO[bytes]:
    from .csvsource import _Joined

    return io.BufferedReader(_Joined(head, stream))


def iter_jsonl(
    checker: Any, stream: IO[bytes], report: FileReport, kinds: Mapping[str, str], plan: Plan
) -> Iterator[JsonBatch]:
    """Check a JSON Lines file piece by piece (``checker``: a
    :class:`~ketenx.records.check.Checker`), yielding its batches as the precise path does
    (:meth:`~ketenx.records.check.Checker.json_batches`). Raises
    :class:`~ketenx.records.readers.Malformed` where reading stops."""
    use_lean_memory_pool()
    arrow_schema = _arrow_schema(kinds)
    pieces = _Pieces(stream)
    record = 0  # records before the piece
    physical = 0  # lines before the piece
    misses = 0  # pieces in a row that the screen could not pass
    skip = 0  # pieces to judge precisely without screening them first (as for CSV)
    for piece, plain, table in pieces.parsed(arrow_schema):
        lines = piece.count(b"\n") + (not piece.endswith(b"\n"))
        passed = False
        if skip:
            skip -= 1
        else:
            passed = plain is not None and table is not None and _passes(plan, piece, kinds, table)
            misses = 0 if passed else misses + 1
            if misses >= 2:  # invalid data: judge precisely, try the screen again later
                skip = 1 << min(misses, 6)
        if passed:
            if report.lines is not None:
                report.lines.add(record + 1, physical + 1, lines, None)
            yield from _passed(checker, report, piece, record, lines)
            record += lines
        else:
            batches = jsonl_batches_at(
                io.BytesIO(piece), report.lines, record, physical, tail=pieces.following
            )
            for batch in checker.json_batches(batches, report, record):
                yield batch
                record = batch.start + batch.size  # blank lines hold no record
        physical += lines
    if pieces.rest is not None:
        batches = jsonl_batches_at(pieces.rest, report.lines, record, physical)
        yield from checker.json_batches(batches, report, record)


def _passed(
    checker: Any, report: FileReport, piece: bytes, record: int, n: int
) -> Iterator[JsonBatch]:
    """The batches of a screened piece: counted, their records decoded when asked for."""
    split: list[bytes] = []

    def records(at: int, m: int) -> list[Any]:
        if not split:
            split.extend(piece.split(b"\n"))
        return jsonl_records(split[at : at + m])

    for at in range(0, n, BATCH_ROWS):
        m = min(BATCH_ROWS, n - at)
        report.records += m
        if checker.progress is not None:
            checker.progress(record + at + m)
        yield JsonBatch.lazy(record + at, m, partial(records, at, m))


def _passes(plan: Plan, piece: bytes, kinds: Mapping[str, str], table: pa.Table) -> bool:
    """Whether every line of the piece (plain records: :func:`_lines_if_plain`; ``table``: as
    pyarrow read it) is a record the schema accepts, as the precise path would read and
    judge it."""
    if len(piece) > MAX_RECORD_BYTES:  # a line may be too long: the precise reader says
        return False
    lines = piece.count(b"\n") + (not piece.endswith(b"\n"))
    if table.num_rows != lines:
        return False
    counts = _Counts(ascii=piece.isascii())
    arrays: dict[str, Any] = {}
    for name, kind in kinds.items():
        array = _column(table.column(name))
        if not counts.add(name, array, kind):
            return False
        arrays[name] = array
    colons = piece.count(b":")
    if colons > counts.colons:  # colons inside strings, or keys written with null
        counts.count_string_colons(arrays, kinds)
    explicit = colons - counts.colons  # keys written with null
    nulls = sum(array.null_count for array in arrays.values())
    if explicit < 0 or explicit > nulls or (explicit and counts.named_colons):
        return False
    # Which nulls are written (null) and which are absent keys: all, none, or not known.
    mode = "absent" if not explicit else "written" if explicit == nulls else "either"
    return _judged(plan, arrays, kinds, lines, mode)


def _parse(piece: bytes, arrow_schema: pa.Schema) -> pa.Table | None:
    import pyarrow as pa
    import pyarrow.json as pj

    if not piece.startswith(b"{"):  # (pyarrow 26 crashes on a piece that starts with null)
        return None
    try:
        return pj.read_json(
            pa.py_buffer(piece),
            read_options=pj.ReadOptions(use_threads=False, block_size=max(len(piece), 1 << 16)),
            parse_options=pj.ParseOptions(
                explicit_schema=arrow_schema,
                unexpected_field_behavior="error",
                newlines_in_values=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None


def _column(chunked: Any) -> Any:
    import pyarrow as pa

    if chunked.num_chunks == 1:
        return chunked.chunk(0)
    return pa.concat_arrays(chunked.chunks)


class _Counts:
    """The ``:`` a piece holds if every key pyarrow read is one written once, besides the
    keys written with ``null``: one per key with a value, plus those inside the keys and (see
    :meth:`count_string_colons`) the strings."""

    def __init__(self, *, ascii: bool) -> None:
        self.colons = 0
        self.named_colons = False  # a property's name holds a colon
        self.ascii = ascii  # the piece is ASCII: its strings are UTF-8

    def add(self, name: str, array: Any, kind: str) -> bool:
        """Count a column; False when its values cannot be screened."""
        import pyarrow as pa
        import pyarrow.compute as pc

        present = len(array) - array.null_count
        self.colons += present * (1 + name.count(":"))
        self.named_colons = self.named_colons or ":" in name
        if not present:
            return True
        if kind == "string":
            try:  # pyarrow does not check the UTF-8 of strings (the precise reader does)
                if not self.ascii:
                    array.validate(full=True)
            except (pa.ArrowInvalid, pa.ArrowException):
                return False
            if pc.min(pc.binary_length(array)).as_py() == 0:
                return False  # "" would be an empty cell in the screen's CSV form
        elif kind == "number":
            if not pc.all(pc.is_finite(array)).as_py():
                return False
            if pc.max(pc.abs(array)).as_py() >= _LIMIT:
                return False  # perhaps an integer the strict decoder keeps exact
        return True

    def count_string_colons(self, arrays: Mapping[str, Any], kinds: Mapping[str, str]) -> None:
        """Add the ``:`` inside the strings (needed only where the piece has more ``:`` than
        keys with a value: else there are none, and no key is written with ``null``)."""
        import pyarrow.compute as pc

        for name, array in arrays.items():
            if kinds[name] == "string" and len(array) > array.null_count:
                self.colons += pc.sum(pc.count_substring(array, ":")).as_py() or 0


def _judged(
    plan: Plan, arrays: Mapping[str, Any], kinds: Mapping[str, str], n: int, mode: str
) -> bool:
    """The engine's screen over the typed columns. A null is an absent key (``mode``
    ``absent``), a ``null`` written (``written``) or either (``either``)."""
    from .parquet import _rows_pass

    if plan.rows is not None or plan.dependent:
        # The screen's CSV form reads an empty cell of a nullable field as null, of another
        # field as absent: right only where that is what the nulls are.
        for name, array in arrays.items():
            nullable = plan.fields[name].nullable
            if array.null_count and (mode == "either" or nullable != (mode == "written")):
                return False
        return _rows_pass(plan, arrays, kinds, n)
    from .plan import _judge

    for name, array in arrays.items():
        program = plan.fields[name]
        if array.null_count:
            absent_ok = not program.required
            written_ok = program.nullable and program.null_ok
            if not (absent_ok if mode == "absent" else written_ok):
                return False
            if mode == "either" and not absent_ok:
                return False
        text = _text(array)
        if len(text) and _judge(program, text, len(text))[0].any():
            return False
    return True


def _text(array: Any) -> Any:
    """The non-null values of a column as an Arrow string array of their CSV text (every
    row: a JSON column has no dictionary, and most hold many distinct values)."""
    import pyarrow as pa

    if array.null_count:
        array = array.drop_null()
    return array if pa.types.is_string(array.type) else array.cast(pa.string())


__all__ = ["iter_jsonl", "kinds_for"]
