"""Parquet input: a file's columns read row group by row group, checked as ``check`` checks
CSV and JSON Lines (docs/formats.md, "Parquet").

A Parquet column is typed, so a value is judged as the JSON value its Arrow type maps to
(``string`` → string, ``int*``/``uint*`` → integer, ``float``/``double`` → number,
``bool`` → boolean, ``decimal`` → number, ``date32``/``date64`` → its ISO text), never cast
to the schema's type: an ``int64`` column for a ``string`` field is a ``type`` error per
record. A null is what an empty CSV cell is: null where the field allows it, else absent.
Other Arrow types (timestamps, binary, lists, structs, maps, ...) are refused for the
columns the schema reads.

The file is untrusted: its footer, its column count and the size of each row group are
bounded before anything is decoded, string columns are read dictionary-encoded so a
dictionary that would expand beyond :data:`MAX_BATCH_BYTES` is refused before it is
materialised, and every failure of the Parquet library is a :class:`Malformed` with a fixed
message (a library's exception text may quote a value).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import IO, TYPE_CHECKING, Any, Final

from ...canonical import pointer
from ...errors import UsageError
from ..batches import BatchChecker, CsvBatch, FileReport
from ..names import name_token
from ..readers import BATCH_ROWS, MAX_CELL_BYTES, Malformed
from ..validation import MISSING, Violation

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa


MAGIC: Final = b"PAR1"
MAX_FOOTER_BYTES: Final = 16 << 20  # the file's metadata (its schema and row group index)
MAX_COLUMNS: Final = 10_000
MAX_ROW_GROUP_BYTES: Final = 1 << 30  # uncompressed, of the columns the schema reads
MAX_BATCH_BYTES: Final = 256 << 20  # the strings of one piece of PIECE_ROWS records, decoded
PIECE_ROWS: Final = 131_072  # records read and screened at once (judged in BATCH_ROWS)

# Arrow type → the JSON type its values are judged as.
# ``number32``: a float16/float32 column, judged as the double its values are (the screen
# would read their shorter float32 text instead), so never screened.
_READ_AS: Final = (
    "string", "integer", "number", "number32", "decimal", "boolean", "null", "date"
)  # fmt: skip


class NeedsFile(UsageError):
    """Parquet was to be read from a stream that cannot seek (standard input, a pipe)."""

    def __init__(self) -> None:
        super().__init__(
            "Parquet is read from a file: its index is at its end, so it cannot be read from "
            "standard input or a pipe; save it to a file and name that"
        )


def _broken(what: str = "it is not a readable Parquet file") -> Malformed:
    return Malformed(0, "parquet", f"the file cannot be read as Parquet: {what}")


def kind_of(arrow_type: pa.DataType) -> str:
    """How the values of a column of ``arrow_type`` are read (one of ``_READ_AS``), or the
    name of a kind ketenx refuses (``timestamp``, ``list``, ...; never a name from the file)."""
    import pyarrow as pa

    t = pa.types
    if t.is_dictionary(arrow_type):
        return kind_of(arrow_type.value_type)
    checks: list[tuple[Callable[[Any], bool], str]] = [
        (t.is_string, "string"),
        (t.is_large_string, "string"),
        (t.is_integer, "integer"),
        (lambda x: t.is_floating(x) and x.bit_width < 64, "number32"),
        (t.is_floating, "number"),
        (t.is_decimal, "decimal"),
        (t.is_boolean, "boolean"),
        (t.is_null, "null"),
        (t.is_date, "date"),
        (t.is_timestamp, "timestamp"),
        (t.is_time, "time"),
        (t.is_duration, "duration"),
        (lambda x: t.is_binary(x) or t.is_large_binary(x), "binary"),
        (t.is_fixed_size_binary, "binary"),
        (lambda x: t.is_list(x) or t.is_large_list(x), "list"),
        (t.is_fixed_size_list, "list"),
        (t.is_struct, "struct"),
        (t.is_map, "map"),
    ]
    for test, kind in checks:
        if test(arrow_type):
            return kind
    return "other"


class ParquetSource:
    """A Parquet file opened for reading, its metadata checked against the limits."""

    def __init__(self, stream: IO[bytes]) -> None:
        seekable = getattr(stream, "seekable", None)
        if not callable(seekable) or not seekable():
            raise NeedsFile()
        self._stream = stream
        self._guard_footer()
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(stream, memory_map=False)
            arrow = self._file.schema_arrow
            meta = self._file.metadata
        except Exception:  # the library's text may quote the file's bytes
            raise _broken() from None
        if meta.num_columns > MAX_COLUMNS or len(arrow) > MAX_COLUMNS:
            raise _broken(f"it has more than {MAX_COLUMNS} columns")
        self.header: list[str] = list(arrow.names)
        self.kinds: list[str] = [kind_of(f.type) for f in arrow]
        self.meta = meta
        strings = [i for i, k in enumerate(self.kinds) if k == "string"]
        if strings:  # read dictionary-encoded: a dictionary bomb is refused before it expands
            try:
                stream.seek(0)
                self._file = pq.ParquetFile(
                    stream,
                    memory_map=False,
                    read_dictionary=[self.header[i] for i in strings],
                    pre_buffer=True,
                )
            except Exception:
                raise _broken() from None

    def _guard_footer(self) -> None:
        """The magic bytes at both ends, and a footer no longer than the limit and the file."""
        s = self._stream
        try:
            s.seek(0, 2)
            size = s.tell()
            if size < 12:
                raise _broken()
            s.seek(0)
            head = s.read(4)
            s.seek(size - 8)
            tail = s.read(8)
            s.seek(0)
        except OSError:
            raise _broken() from None
        if head != MAGIC or tail[4:] != MAGIC:
            raise _broken()
        (length,) = struct.unpack("<I", tail[:4])
        if length > MAX_FOOTER_BYTES:
            raise _broken(f"its metadata is larger than {MAX_FOOTER_BYTES >> 20} MiB")
        if length > size - 12:
            raise _broken()

    def batches(
        self, positions: Sequence[int], rows: int = BATCH_ROWS
    ) -> Iterator[tuple[int, pa.RecordBatch]]:
        """(row group, batch of at most ``rows`` rows) of the columns at ``positions``, row
        group by row group."""
        names = [self.header[p] for p in positions]
        meta = self.meta
        wanted = set(positions)
        for group in range(meta.num_row_groups):
            try:
                rg = meta.row_group(group)
                size = sum(
                    rg.column(i).total_uncompressed_size
                    for i in range(rg.num_columns)
                    if _leaf_position(rg, i, self.header) in wanted
                )
            except Exception:
                raise _broken() from None
            if size > MAX_ROW_GROUP_BYTES:
                raise _broken(f"a row group is larger than {MAX_ROW_GROUP_BYTES >> 20} MiB")
            try:
                it = self._file.iter_batches(
                    batch_size=rows, row_groups=[group], columns=names, use_threads=False
                )
                decoded = _Decoded()
                for batch in it:
                    if decoded.add(batch) > MAX_ROW_GROUP_BYTES:  # the footer understated it
                        raise _TooLarge
                    yield group, batch
            except _TooLarge:
                raise _broken(
                    f"a row group is larger than {MAX_ROW_GROUP_BYTES >> 20} MiB"
                ) from None
            except Exception:
                raise _broken() from None


class _TooLarge(Exception):
    """A row group decoded beyond the bound its footer claimed to keep."""


class _Decoded:
    """The bytes decoded so far from one row group, counted on the batches themselves (the
    footer's sizes are the file's word only): values and offsets of every batch, and of a
    dictionary-encoded column its indices per batch and its dictionary once (a column chunk
    has one dictionary, which every batch of the row group carries: the largest is kept)."""

    def __init__(self) -> None:
        self._values = 0
        self._dictionaries: dict[int, int] = {}

    def add(self, batch: Any) -> int:
        for i, column in enumerate(batch.columns):
            dictionary = getattr(column, "dictionary", None)
            if dictionary is None:
                self._values += column.nbytes
                continue
            self._values += column.indices.nbytes
            self._dictionaries[i] = max(self._dictionaries.get(i, 0), dictionary.nbytes)
        return self._values + sum(self._dictionaries.values())


def _leaf_position(rg: Any, i: int, header: Sequence[str]) -> int:
    """The top-level column a leaf column chunk belongs to (-1 when none is known)."""
    path = rg.column(i).path_in_schema
    top = path.split(".", 1)[0]
    try:
        return header.index(top)
    except ValueError:
        return -1


# --- values ------------------------------------------------------------------------------------


def _decimal_value(d: decimal.Decimal) -> int | float:
    """A decimal as the JSON reader reads its text: an integral one an integer, else the
    nearest double (as ``json`` reads ``0.10``)."""
    if d == d.to_integral_value():
        return int(d)
    return float(d)


def column_values(array: pa.Array, kind: str, empty: object) -> tuple[list[Any], list[int]]:
    """The JSON values of a column (``empty``, the value of a null: None or MISSING), and
    the rows whose value has no JSON form (NaN, infinity)."""
    try:
        values: list[Any] = array.to_pylist()
    except (OverflowError, ValueError):  # a date outside the years 1 to 9999; not UTF-8
        raise _broken(
            "a column holds a value with no JSON form (a date outside the years 1 to 9999, "
            "or text that is not UTF-8)"
        ) from None
    nonfinite: list[int] = []
    if array.null_count:
        values = [empty if v is None else v for v in values]
    if kind in ("number", "number32"):
        nonfinite = [i for i, v in enumerate(values) if type(v) is float and not math.isfinite(v)]
        for i in nonfinite:
            values[i] = empty
    elif kind == "decimal":
        values = [_decimal_value(v) if isinstance(v, decimal.Decimal) else v for v in values]
    elif kind == "date":
        values = [v.isoformat() if isinstance(v, _dt.date) else v for v in values]
    return values, nonfinite


def _guarded(array: Any) -> Any:
    """A column of a piece, as it was read (string columns dictionary-encoded) once it is
    known not to expand beyond the limits: values of at most ``MAX_CELL_BYTES``, a
    dictionary not expanding beyond ``MAX_BATCH_BYTES``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(array.type):
        if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
            _guard_strings(array)
            _guard_utf8(array)
        return array
    values = array.dictionary
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        _guard_utf8(values)
    if len(values):
        lengths = pc.binary_length(values)
        longest = pc.max(lengths).as_py() or 0
        if longest > MAX_CELL_BYTES:
            raise _broken(f"a value is longer than the limit of {MAX_CELL_BYTES} bytes")
        bound = longest * len(array)  # at most; else the exact sum
        if (
            bound > MAX_BATCH_BYTES
            and (pc.sum(pc.take(lengths, array.indices)).as_py() or 0) > MAX_BATCH_BYTES
        ):
            raise _broken(f"a batch of records would take more than {MAX_BATCH_BYTES >> 20} MiB")
    return array


def _guard_utf8(array: Any) -> None:
    """A string column's bytes are UTF-8: a Parquet file can declare any bytes text, and
    neither the reader nor the screen checks them (``validate(full=True)`` does)."""
    try:
        array.validate(full=True)
    except Exception:  # the library's text may quote the bytes
        raise _broken("a text column holds bytes that are not UTF-8") from None


def _guard_strings(array: Any) -> None:
    import pyarrow.compute as pc

    if len(array) and (pc.max(pc.binary_length(array)).as_py() or 0) > MAX_CELL_BYTES:
        raise _broken(f"a value is longer than the limit of {MAX_CELL_BYTES} bytes")


# --- checking ----------------------------------------------------------------------------------


def iter_parquet(
    checker: BatchChecker, stream: IO[bytes], report: FileReport
) -> Iterator[CsvBatch]:
    """Check a Parquet file batch by batch, yielding the judged batches (their ``columns``
    are JSON values; ``cells`` are empty). Raises :class:`Malformed` when it cannot be read
    further, :class:`NeedsFile` for a stream that cannot seek."""

    report.lines = None  # a Parquet file has no lines to point at
    source = ParquetSource(stream)
    positions, ok = checker.check_header(source.header, report)
    if not ok:
        report.fatal = True
        return
    if not _types_readable(checker, source, positions, report):
        report.fatal = True
        return
    schema = checker.schema
    kinds = {name: source.kinds[pos] for name, pos in positions.items()}
    empties = {name: None if schema.allows_null(name) else MISSING for name in positions}
    screenable = _screenable(checker, kinds)
    order = sorted(positions, key=positions.__getitem__)
    record = 0
    misses = 0  # pieces in a row that the screen could not pass
    skip = 0  # pieces to judge precisely without screening them first (as for CSV)
    for _, piece in source.batches([positions[n] for n in order], PIECE_ROWS):
        n = piece.num_rows
        arrays = piece_arrays(piece, order)
        passed = False
        if screenable and skip:
            skip -= 1
        elif screenable:
            passed = _screen_passes(checker, arrays, kinds, n)
            misses = 0 if passed else misses + 1
            if misses >= 2:  # invalid data: judge precisely, try the screen again later
                skip = 1 << min(misses, 6)
        for at in range(0, n, BATCH_ROWS):
            m = min(BATCH_ROWS, n - at)
            part = {name: array.slice(at, m) for name, array in arrays.items()}
            start = record
            record += m
            if passed:
                report.records += m
                if checker.progress is not None:
                    checker.progress(record)
                yield CsvBatch.lazy(start, m, partial(_build, part, kinds, empties))
                continue
            columns, special = _build(part, kinds, empties, report_start=start)
            bad = checker.judge(columns, m)
            for i in special:
                bad.pop(i, None)
            checker.report_batch(
                report, start, m, bad, special, partial(schema.row_record, columns)
            )
            if checker.progress is not None:
                checker.progress(record)
            yield CsvBatch(start=start, size=m, columns=columns, rejected=set(bad) | set(special))


def piece_arrays(piece: pa.RecordBatch, order: Sequence[str]) -> dict[str, Any]:
    """The guarded columns ``order`` of a piece read by :meth:`ParquetSource.batches` (a
    name given twice comes back twice: its first column)."""
    in_piece = piece.schema.names
    return {name: _guarded(piece.column(in_piece.index(name))) for name in order}


def _build(
    arrays: Mapping[str, Any],
    kinds: Mapping[str, str],
    empties: Mapping[str, object],
    names: Sequence[str] | None = None,
    report_start: int | None = None,
) -> Any:
    """The JSON-valued columns of a batch (of the ``names`` given, or all), and with
    ``report_start`` the violations of values that have no JSON form."""
    columns: dict[str, Sequence[Any]] = {}
    special: dict[int, Violation] = {}
    for name, array in arrays.items():
        if names is not None and name not in names:
            continue
        values, nonfinite = column_values(array, kinds[name], empties[name])
        columns[name] = values
        for i in nonfinite:
            if report_start is not None and i not in special:
                special[i] = Violation(
                    report_start + i + 1,
                    pointer(name),
                    "type",
                    "the value is NaN or infinite, which is not a JSON number",
                )
    if report_start is not None:
        return columns, special
    return columns, {}


def _types_readable(
    checker: BatchChecker, source: ParquetSource, positions: Mapping[str, int], report: FileReport
) -> bool:
    """Whether every column the schema reads has a type ketenx reads; the others reported."""
    ok = True
    names = checker.schema.reference.names
    for name, pos in positions.items():
        kind = source.kinds[pos]
        if kind not in _READ_AS:
            ok = False
            field_ptr = pointer(name_token(name, pos + 1, kind="column", known=names))
            report.add(
                Violation(
                    0,
                    field_ptr,
                    "column-type",
                    f"column {pos + 1} is a Parquet {kind} column, which ketenx does not read: "
                    "export it as a string (docs/formats.md, Parquet)",
                )
            )
    return ok


def _screenable(checker: BatchChecker, kinds: Mapping[str, str]) -> bool:
    """Whether batches can go through the engine's screen: a columnar plan, no
    normalisation, and every column a string column of a string field or a numeric column
    of a numeric field (read by the screen as the CSV cells of the same values)."""
    if not checker.engine or checker.normalise:
        return False
    from ..validation import declared_types
    from . import plan_for

    plan = plan_for(checker.schema)
    if plan.precise is not None:
        return False
    props = checker.schema.schema.get("properties", {})
    for name, kind in kinds.items():
        program = plan.fields.get(name)
        if program is None:
            return False
        if kind == "string" and program.strings:
            continue
        types = declared_types(props.get(name, {}), checker.schema.schema) or {"any"}
        numeric = not program.strings and types <= {"integer", "number", "null"}
        # An integer column as its decimal text; a float column (of a field that is only a
        # number) as the shortest text that reads back as the same double.
        if numeric and (kind == "integer" or (kind == "number" and "number" in types)):
            continue
        return False
    return True


def _screen_passes(
    checker: BatchChecker, arrays: Mapping[str, Any], kinds: Mapping[str, str], n: int
) -> bool:
    """Whether the engine's screen finds every row of the piece valid. A null is an empty
    cell; a piece with an empty string is not screened (in CSV it would be an empty cell).

    Without root row tests (``dependentRequired``, ``if``/``then``, ...), a column's rows
    are valid when its nulls are allowed and each of its distinct values is (the column
    kernels judge the dictionary values its rows use, not every row); else the screen judges the
    rows as the CSV cells of the same values."""
    from . import plan_for

    plan = plan_for(checker.schema)
    if plan.rows is not None or plan.dependent:
        return _rows_pass(plan, arrays, kinds, n)
    from .plan import _judge

    for name, array in arrays.items():
        program = plan.fields[name]
        if array.null_count and (
            (program.nullable and not program.null_ok)
            or (not program.nullable and program.required)
        ):
            return False
        values = _distinct_text(array)
        if values is None:
            return False
        if len(values) and _judge(program, values, len(values))[0].any():
            return False
    return True


def _distinct_text(array: Any) -> Any:
    """The distinct non-null values of a column as an Arrow string array of their CSV
    text; None when one is ``""`` (or a dictionary column's indices cannot be followed)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .arrays import whole

    array = whole(array)
    values = _used_values(array) if pa.types.is_dictionary(array.type) else pc.unique(array)
    if values is None:
        return None
    if values.null_count:
        values = values.drop_null()
    if not (pa.types.is_string(values.type)):
        values = values.cast(pa.string())
    if len(values) and pc.min(pc.binary_length(values)).as_py() == 0:
        return None
    return values


def _used_values(array: Any) -> Any:
    """The dictionary values the rows of a dictionary-encoded piece use, each once.

    Every piece of a row group carries its column chunk's whole dictionary (for a column
    with a distinct value per row, the values of every piece so far), so judging the
    dictionary would judge those values once per piece; the rows' own values are judged
    once per row at most, as in CSV. The used entries are marked by their indices (no
    hashing). None when an index is out of range (the precise path then reads the piece and
    says what is wrong)."""
    import numpy as np

    from .arrays import bools, integers

    dictionary = array.dictionary
    indices = array.indices
    if indices.null_count:
        indices = indices.drop_null()
    at = integers(indices)
    if len(at) == 0:
        return dictionary.slice(0, 0)
    if at.min() < 0 or at.max() >= len(dictionary):
        return None
    used = np.zeros(len(dictionary), dtype=bool)
    used[at] = True
    return dictionary if used.all() else dictionary.filter(bools(used))


_EMPTY: list[Any] = []


def _rows_pass(plan: Any, arrays: Mapping[str, Any], kinds: Mapping[str, str], n: int) -> bool:
    """The screen over every row: the columns as the CSV cells of the same values."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .arrays import strings, whole

    if not _EMPTY:  # an Arrow "" made without pa.scalar (that imports pandas)
        _EMPTY.append(strings([""])[0])
    cells: dict[str, Any] = {}
    for name, array in arrays.items():
        array = whole(array)
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        # (not pc.equal(array, ""): a Python scalar there imports pandas, ≈0.4 s)
        if kinds[name] == "string" and len(array) and pc.min(pc.binary_length(array)).as_py() == 0:
            return False
        text = array if pa.types.is_string(array.type) else array.cast(pa.string())
        cells[name] = pc.fill_null(text, _EMPTY[0]) if array.null_count else text
    bad = plan.screen(cells, n)
    return bad is not None and not bad.any()
