"""Streaming readers for CSV, JSON Lines and JSON arrays.

Readers take a binary stream and yield batches, so memory stays flat whatever the file size.
A file that is broken beyond a single record (not UTF-8, binary, unbalanced quotes, a JSON
array that does not parse) raises :class:`Malformed` with the record where reading stopped;
a broken JSON Lines line is reported as a :class:`Malformed` item in its batch and reading
goes on. No message here ever quotes the data.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Final, Literal, TypeVar

from .errors import UsageError

_T = TypeVar("_T")

InputFormat = Literal["csv", "jsonl", "json"]
INPUT_FORMATS: Final = ("csv", "jsonl", "json")
EXTENSIONS: Final[dict[str, InputFormat]] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}

BATCH_ROWS: Final = 4096
BLOCK_BYTES: Final = 1 << 20
MAX_CELL_BYTES: Final = 1 << 20  # 1 MiB per CSV cell
MAX_RECORD_BYTES: Final = 16 << 20  # 16 MiB per JSON record


@dataclass
class Malformed(Exception):
    """The file cannot be read further (or, in a JSON Lines batch, one line cannot)."""

    record: int  # 1-based record where the problem is; 0 when it is before the first record
    rule: str
    message: str

    def __str__(self) -> str:
        return f"record {self.record}: {self.rule}: {self.message}"


def check_delimiter(delimiter: str | None) -> None:
    """A CSV delimiter is one character other than a quote, CR or LF."""
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise UsageError("--delimiter takes one character other than a quote or a line break")


def format_for(name: str) -> InputFormat | None:
    """The input format implied by a file name's extension, if any."""
    lowered = name.lower()
    for ext, fmt in EXTENSIONS.items():
        if lowered.endswith(ext):
            return fmt
    return None


class _Text:
    """UTF-8 text from a binary stream, in blocks; BOM dropped; NUL bytes and bad UTF-8 are
    reported with the record reached so far (``where`` is updated by the caller)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self.where = 0  # last record read
        self.eof = False

    def read(self) -> str:
        while True:
            raw = self._stream.read(BLOCK_BYTES)
            final = not raw
            try:
                text = self._decoder.decode(raw, final)
            except UnicodeDecodeError:
                raise Malformed(
                    self.where + 1,
                    "encoding",
                    f"the file is not valid UTF-8 after record {self.where} "
                    "(re-export it as UTF-8)",
                ) from None
            if "\x00" in text:
                raise Malformed(
                    self.where + 1, "binary", "the file contains a NUL byte: it is not text"
                )
            if final:
                self.eof = True
                return text
            if text:
                return text


# --- CSV ----------------------------------------------------------------------------------------


class _NulGuard(io.RawIOBase):
    """A raw stream that refuses NUL bytes (in UTF-8 a NUL byte is only ever the NUL
    character, so a text file never has one)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        if b"\x00" in data:
            raise _NulByte
        n = len(data)
        buffer[:n] = data
        return n


class _NulByte(Exception):
    pass


class CsvReader:
    """Header and batches of rows (lists of strings) from a CSV file.

    UTF-8 with or without BOM, LF or CRLF, quoted cells with embedded newlines. The
    delimiter is ``,`` or ``;``: sniffed from the header line unless given.
    """

    def __init__(self, stream: IO[bytes], *, delimiter: str | None = None) -> None:
        self._text = io.TextIOWrapper(
            io.BufferedReader(_NulGuard(stream), BLOCK_BYTES),
            encoding="utf-8-sig",
            errors="strict",
            newline="",
        )
        self.records = 0
        self.header: list[str] | None = None
        first = self._guard(self._text.readline)
        if not first:
            return
        self.delimiter = delimiter or _sniff(first)
        self._reader = csv.reader(
            itertools.chain([first], self._text), delimiter=self.delimiter, strict=True
        )
        self.header = self._guard(lambda: next(self._reader, None))

    def _guard(self, read: Callable[[], _T]) -> _T:
        """Run ``read``, turning the ways a file can be broken into :class:`Malformed`."""
        try:
            return read()
        except (csv.Error, UnicodeDecodeError, _NulByte) as exc:
            raise self._problem(exc) from None

    def _problem(self, exc: Exception) -> Malformed:
        """The :class:`Malformed` for a reading failure after ``self.records`` good records."""
        after = self.records
        if isinstance(exc, csv.Error):
            return _csv_problem(exc, after + 1)
        if isinstance(exc, UnicodeDecodeError):
            return Malformed(
                after + 1,
                "encoding",
                f"the file is not valid UTF-8 after record {after} (re-export it as UTF-8)",
            )
        return Malformed(
            after + 1,
            "binary",
            f"the file contains a NUL byte after record {after}: it is not text",
        )

    def batches(self) -> Iterator[list[list[str]]]:
        """Rows after the header, ``BATCH_ROWS`` at a time. Blank lines are skipped.

        When the file breaks, the rows read before the break are still yielded (so they are
        checked and counted); then :class:`Malformed` is raised."""
        if self.header is None:
            return
        reader = self._reader
        while True:
            batch: list[list[str]] = []
            failure: Exception | None = None
            try:
                # list.extend keeps the rows it got before an exception.
                batch.extend(itertools.islice(reader, BATCH_ROWS))
            except (csv.Error, UnicodeDecodeError, _NulByte) as exc:
                failure = exc
            read = len(batch)
            if [] in batch:  # blank lines
                batch = [row for row in batch if row]
            self.records += len(batch)
            if batch:
                yield batch
            if failure is not None:
                raise self._problem(failure) from None
            if read == 0:
                return


def _sniff(header_line: str) -> str:
    """``;`` when the header line has more semicolons than commas outside quotes, else ``,``."""
    commas = semicolons = 0
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch == ",":
                commas += 1
            elif ch == ";":
                semicolons += 1
    return ";" if semicolons > commas else ","


def _csv_problem(exc: csv.Error, record: int) -> Malformed:
    text = str(exc)
    if "field larger than field limit" in text:
        return Malformed(
            record, "cell-size", f"a cell is larger than the limit of {MAX_CELL_BYTES} bytes"
        )
    if "unexpected end of data" in text or "EOF" in text:
        return Malformed(record, "csv-syntax", "unbalanced quotes: a quoted cell is never closed")
    if "expected" in text and "after" in text:
        return Malformed(
            record,
            "csv-syntax",
            "a quote is followed by text: quote characters inside a quoted cell must be doubled",
        )
    return Malformed(record, "csv-syntax", "the row cannot be parsed as CSV")


csv.field_size_limit(MAX_CELL_BYTES)


# --- JSON Lines ---------------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def jsonl_batches(stream: IO[bytes]) -> Iterator[list[Any]]:
    """Records of a JSON Lines file in batches; a line that does not parse is a
    :class:`Malformed` item (rule ``json-syntax``) and reading goes on."""
    text = _Text(stream)
    decode = _DECODER.decode
    record = 0
    batch: list[Any] = []
    pending = ""
    while True:
        block = text.read()
        data = pending + block
        if text.eof:
            lines, pending = data.split("\n"), ""
        else:
            lines = data.split("\n")
            pending = lines.pop()
            if len(pending) > MAX_RECORD_BYTES:
                raise Malformed(
                    record + 1, "record-size", f"a line is longer than {MAX_RECORD_BYTES} bytes"
                )
        for line in lines:
            if not line.strip():
                continue
            record += 1
            try:
                value = decode(line)
            except ValueError as exc:
                col = getattr(exc, "colno", None)
                where = f" at column {col}" if col else ""
                batch.append(Malformed(record, "json-syntax", f"the line is not valid JSON{where}"))
            except RecursionError:
                batch.append(Malformed(record, "json-syntax", _TOO_DEEP))
            else:
                problem = _unpaired_surrogate(line, value, record)
                batch.append(value if problem is None else problem)
            if len(batch) >= BATCH_ROWS:
                text.where = record
                yield batch
                batch = []
        if text.eof:
            break
    if batch:
        yield batch


# --- JSON array ---------------------------------------------------------------------------


def json_array_batches(stream: IO[bytes]) -> Iterator[list[Any]]:
    """Elements of a top-level JSON array, parsed incrementally: memory holds one block and
    the element being parsed (at most ``MAX_RECORD_BYTES``)."""
    text = _Text(stream)
    raw_decode = _DECODER.raw_decode
    buf = text.read()
    pos = _skip_ws(buf, 0)
    while pos >= len(buf) and not text.eof:
        buf = text.read()
        pos = _skip_ws(buf, 0)
    if pos >= len(buf):
        return  # an empty file holds no records, as an empty CSV or JSON Lines file does
    if buf[pos] != "[":
        raise Malformed(0, "json-structure", "the file is not a JSON array of records")
    pos += 1
    record = 0
    batch: list[Any] = []
    expect_value = True
    first = True
    while True:
        pos = _skip_ws(buf, pos)
        if pos >= len(buf):
            if text.eof:
                raise Malformed(record + 1, "json-syntax", "the JSON array is not closed")
            buf = buf[pos:] + text.read()
            pos = 0
            continue
        ch = buf[pos]
        if ch == "]" and (first or not expect_value):
            pos += 1
            break
        if not expect_value:
            if ch != ",":
                raise Malformed(record + 1, "json-syntax", "expected `,` or `]` after a record")
            pos += 1
            expect_value = True
            continue
        try:
            value, end = raw_decode(buf, pos)
        except RecursionError:
            raise Malformed(record + 1, "json-syntax", _TOO_DEEP) from None
        except ValueError:
            # Maybe the element continues in the next block.
            if text.eof:
                raise Malformed(record + 1, "json-syntax", "the record is not valid JSON") from None
            if len(buf) - pos > MAX_RECORD_BYTES:
                raise Malformed(
                    record + 1, "record-size", f"a record is larger than {MAX_RECORD_BYTES} bytes"
                ) from None
            buf = buf[pos:] + text.read()
            pos = 0
            continue
        if end >= len(buf) and not text.eof and not isinstance(value, dict | list | str):
            # A number at the end of a block may be cut short: read on and parse again.
            buf = buf[pos:] + text.read()
            pos = 0
            continue
        record += 1
        problem = _unpaired_surrogate(buf[pos:end], value, record)
        if problem is not None:
            raise problem
        batch.append(value)
        pos = end
        expect_value = False
        first = False
        if len(batch) >= BATCH_ROWS:
            text.where = record
            yield batch
            batch = []
    # Only white space may follow the array.
    while True:
        pos = _skip_ws(buf, pos)
        if pos < len(buf):
            raise Malformed(record, "json-syntax", "unexpected content after the JSON array")
        if text.eof:
            break
        buf, pos = text.read(), 0
    if batch:
        yield batch


_TOO_DEEP = "the JSON is nested too deeply"


def _unpaired_surrogate(text: str, value: Any, record: int) -> Malformed | None:
    """A JSON text may escape a lone UTF-16 surrogate (``\\ud800``), which is not Unicode
    text and cannot be written as UTF-8: such a record is malformed."""
    if "\\ud" not in text and "\\uD" not in text:
        return None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return Malformed(
            record, "encoding", "the record holds an unpaired surrogate escape: not Unicode text"
        )
    return None


def _skip_ws(buf: str, pos: int) -> int:
    n = len(buf)
    while pos < n and buf[pos] in " \t\r\n":
        pos += 1
    return pos
