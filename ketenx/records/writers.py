"""Writing treated records as CSV, JSON Lines or a JSON array, a batch of columns at a time,
and the digests taken while bytes flow in and out.

CSV output neutralises formula injection (see :func:`neutralise`): a string cell that a
spreadsheet could run as a formula gets a leading apostrophe. Readers of a delivery
(``check --side output``, ``reidentify``) undo it with :func:`unneutralise` before they look at
a value. Numeric columns are never touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Mapping, Sequence
from typing import IO, Any, Literal

from .validation import MISSING

OutputFormat = Literal["csv", "jsonl", "json", "parquet"]
# Parquet is written by ketenx.records.parquetwriter (make_writer there picks the writer).
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("csv", "jsonl", "json", "parquet")

# A cell is prefixed with one apostrophe when it starts with = + - @ TAB or CR, possibly after
# apostrophes; undoing removes one apostrophe from a cell of that same shape. So
# "'s-Gravenhage" is left alone, and the rule is exactly reversible.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_PREFIX = re.compile(r"'*[=+\-@\t\r]")
_PREFIXED = re.compile(r"'+[=+\-@\t\r]")


def neutralise(column: Sequence[Any]) -> Sequence[Any]:
    """Prefix ``'`` to every string that starts (after any apostrophes) with ``= + - @ TAB CR``."""
    all_strings = set(map(type, column)) <= {str}
    strings = column if all_strings else [v for v in column if type(v) is str]
    if not any(map(_NEEDS_PREFIX.match, strings)):
        return column
    match = _NEEDS_PREFIX.match
    return ["'" + v if type(v) is str and match(v) else v for v in column]


def unneutralise(cell: str) -> str:
    """Undo :func:`neutralise` for one CSV cell."""
    return cell[1:] if _PREFIXED.match(cell) else cell


def unneutralise_column(cells: Sequence[str]) -> Sequence[str]:
    match = _PREFIXED.match
    if not any(map(match, cells)):
        return cells
    return [c[1:] if match(c) else c for c in cells]


class HashingWriter(io.RawIOBase):
    """A binary sink that hashes (SHA-256) and counts everything written to it."""

    def __init__(self, sink: IO[bytes]) -> None:
        self._sink = sink
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self.sha256.update(view)
        self._sink.write(view)
        self.size += len(view)
        return len(view)

    def digest(self) -> str:
        return "sha256:" + self.sha256.hexdigest()


class HashingReader(io.RawIOBase):
    """A binary source that feeds everything read from it to ``hasher`` (any object with
    ``update``, e.g. a keyed HMAC; SHA-256 when none is given) and counts it."""

    def __init__(self, source: IO[bytes], hasher: Any | None = None) -> None:
        self._source = source
        self.hasher = hashlib.sha256() if hasher is None else hasher
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.hasher.update(data)
        self.size += n
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.hasher.update(data)
        self.size += len(data)
        return data

    def digest(self) -> str:
        return "sha256:" + self.hasher.hexdigest()


def _needs_quotes(cells: Sequence[str]) -> bool:
    """Whether any of ``cells`` must be quoted: it holds ``,``, ``"``, LF or CR."""
    text = "".join(cells)
    return "," in text or '"' in text or "\n" in text or "\r" in text


def _quote(cell: str) -> str:
    if '"' in cell:
        return '"' + cell.replace('"', '""') + '"'
    if "," in cell or "\n" in cell or "\r" in cell:
        return '"' + cell + '"'
    return cell


def csv_column(cells: Sequence[str]) -> Sequence[str]:
    """The cells of one column as CSV text (RFC 4180 quoting): a cell holding ``,``, ``"``,
    LF or CR is quoted, with ``"`` doubled. (Python's csv.writer leaves a lone CR unquoted
    when the line terminator is LF; a reader would then split the row.)"""
    if not _needs_quotes(cells):
        return cells
    distinct = set(cells)
    if len(distinct) * 4 > len(cells):  # mostly distinct cells: quoted one by one
        return list(map(_quote, cells))
    quoted = {cell: _quote(cell) for cell in distinct}  # bucket labels, codes: once each
    return list(map(quoted.__getitem__, cells))


def csv_lines(columns: Sequence[Sequence[str]]) -> str:
    """Rows of CSV text (each ending in LF) from columns of cell texts."""
    cells = list(map(csv_column, columns))
    if len(cells) == 1:  # a row of one empty cell would be a blank line: write it as ""
        cells = [['""' if c == "" else c for c in cells[0]]]
    return "\n".join(map(",".join, zip(*cells, strict=True))) + "\n"


def _number_text(value: Any) -> str:
    """A number as a CSV cell: as ``str()`` writes it, but an integral float below 2**53 as
    an integer (``1.0`` → ``1``): JSON Schema counts 1.0 as an integer, and a CSV reader of
    an ``integer`` column reads ``1`` as one, not ``1.0``."""
    if type(value) is float and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return str(value)


class RecordWriter:
    """Writes batches of output columns (name → values) to a binary stream.

    CSV: a header row, then one row per record (``\n`` line ends). JSON Lines: one compact
    object per line. JSON array: ``[``, one compact object per line separated by ``,``, ``]``
    (``[]`` when there are no records); every format ends with a line feed. Call
    :meth:`close` to finish the file.
    """

    def __init__(
        self,
        sink: IO[bytes],
        fmt: OutputFormat,
        names: Sequence[str],
        string_columns: frozenset[str],
    ) -> None:
        self.fmt = fmt
        self.names = list(names)
        self.string_columns = string_columns
        self.records = 0
        self._text = io.TextIOWrapper(sink, encoding="utf-8", newline="", write_through=False)
        self._separator = "[\n" if fmt == "json" else ""  # before the next JSON record
        if fmt == "csv":
            self._text.write(csv_lines([[name] for name in self.names]))

    def write(self, columns: Mapping[str, Sequence[Any]], n: int) -> None:
        if n == 0:
            return
        self.records += n
        cols = [columns[name] for name in self.names]
        if self.fmt == "csv":
            cells = [
                self._csv_cells(col, name in self.string_columns)
                for name, col in zip(self.names, cols, strict=True)
            ]
            self._text.write(csv_lines(cells))
            return
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        names = self.names
        write = self._text.write
        has_missing = any(MISSING in col for col in cols)
        rows = (dict(zip(names, row, strict=True)) for row in zip(*cols, strict=True))
        if has_missing:
            rows = ({k: v for k, v in r.items() if v is not MISSING} for r in rows)
        if self.fmt == "jsonl":
            for record in rows:
                write(dumps(record))
                write("\n")
            return
        for record in rows:
            write(self._separator)
            write(dumps(record))
            self._separator = ",\n"

    @staticmethod
    def _csv_cells(col: Sequence[Any], is_string: bool) -> Sequence[str]:
        """The column as CSV cell texts (numbers as ``str()`` writes them, as csv.writer
        does; absent and null empty; booleans ``true``/``false``), formula-neutralised."""
        kinds = set(map(type, col))
        if kinds <= {str}:
            return neutralise(col) if is_string else col
        if kinds <= {int, float}:
            return list(map(_number_text, col))
        if is_string:  # only strings can be formulas: numbers are left alone
            col = neutralise(col)
        return [
            v
            if type(v) is str
            else ""
            if v is MISSING or v is None
            else ("true" if v else "false")
            if type(v) is bool
            else _number_text(v)
            if type(v) is float
            else str(v)
            for v in col
        ]

    def close(self) -> None:
        if self.fmt == "json":
            self._text.write("[]\n" if self.records == 0 else "\n]\n")
        self._text.flush()
        self._text.detach()
