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
from typing import IO, Any, Final, Literal, TypeVar, cast

from ..errors import UsageError
from .fastjson import decode as fast_decode
from .strictjson import (
    DECODER,
    DUPLICATE_KEY,
    MAX_DEPTH,
    OUT_OF_RANGE,
    TOO_DEEP,
    DuplicateKey,
    OutOfRange,
    duplicate_at,
    too_deep,
)

_T = TypeVar("_T")

InputFormat = Literal["csv", "jsonl", "json", "parquet"]
EXTENSIONS: Final[dict[str, InputFormat]] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
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
    field: str = ""  # JSON Pointer inside the record (a duplicate key), names withheld

    def __str__(self) -> str:
        return f"record {self.record}: {self.rule}: {self.message}"


#: Names a delimiter may be given by (``--delimiter tab`` or ``--delimiter '\t'``).
DELIMITER_NAMES: Final = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}


def delimiter_char(delimiter: str | None) -> str | None:
    """The delimiter character of ``--delimiter`` (``tab`` and ``\\t`` name a tab)."""
    if delimiter is None:
        return None
    return DELIMITER_NAMES.get(delimiter.lower() if delimiter.isalpha() else delimiter, delimiter)


def check_delimiter(delimiter: str | None) -> None:
    """A CSV delimiter is one character other than a quote, CR or LF (or ``tab``)."""
    char = delimiter_char(delimiter)
    if char is not None and (len(char) != 1 or char in '"\r\n'):
        raise UsageError(
            "--delimiter takes one character other than a quote or a line break, or `tab`"
        )


#: The encodings ``--encoding`` accepts (by their Python codec names), and their aliases.
ENCODINGS: Final = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "iso-8859-15": "iso-8859-15",
    "utf-16": "utf-16",
}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def check_encoding(encoding: str | None) -> str | None:
    """The codec of ``--encoding``, or a usage error naming the ones accepted."""
    if encoding is None:
        return None
    codec = ENCODINGS.get(encoding.lower())
    if codec is None:
        raise UsageError("--encoding takes one of: utf-8, cp1252, latin-1, iso-8859-15, utf-16")
    return codec


class _Transcoded(io.RawIOBase):
    """A text file in another encoding, read as UTF-8 bytes. The good text before an
    undecodable byte is returned first (a short read); the read after it raises
    ``_Broken("encoding")``, so the reader reports the record where the break is."""

    def __init__(self, stream: IO[bytes], codec: str) -> None:
        self._stream = stream
        self._codec = codec
        self._decoder = codecs.getincrementaldecoder(codec)("strict")
        self._pending = b""
        self._broken = False
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        while not self._pending:
            if self._broken:
                raise _Broken("encoding", codec=self._codec)
            if self._done:
                return b""
            raw = self._stream.read(BLOCK_BYTES)
            final = not raw
            try:
                text = self._decoder.decode(raw, final)
            except UnicodeDecodeError as exc:
                good = max(0, exc.start - (len(exc.object) - len(raw)))
                text = self._decoder.decode(raw[:good], False)
                self._broken = True
            except UnicodeError:  # a codec that cannot say where (no text is lost: none read)
                text, self._broken = "", True
            self._pending = text.encode("utf-8")
            self._done = final
        n = len(self._pending) if size is None or size < 0 else size
        out, self._pending = self._pending[:n], self._pending[n:]
        return out

    def readinto(self, buffer: Any) -> int:  # pragma: no cover - the readers call read()
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def decoded(stream: IO[bytes], encoding: str | None = None) -> IO[bytes]:
    """``stream`` as UTF-8 bytes for the readers: as it is for UTF-8; transcoded from the
    ``--encoding`` given, or from UTF-16 when the file starts with a UTF-16 byte order mark
    (Excel's "Unicode text")."""
    codec = check_encoding(encoding)
    peek = getattr(stream, "peek", None)
    head = peek(2)[:2] if callable(peek) and codec in (None, "utf-16") else b""
    if codec is None and head in _UTF16_BOMS:
        codec = "utf-16"
    elif codec == "utf-16" and head not in _UTF16_BOMS:
        codec = "utf-16-le"  # no byte order mark: little-endian, as Windows writes it
    if codec is None or codec == "utf-8":
        return stream
    # Not wrapped in a BufferedReader: it would hold back the good text before a break.
    return cast(IO[bytes], _Transcoded(stream, codec))


def format_for(name: str) -> InputFormat | None:
    """The input format implied by a file name's extension, if any."""
    lowered = name.lower()
    for ext, fmt in EXTENSIONS.items():
        if lowered.endswith(ext):
            return fmt
    return None


class _Broken(Exception):
    """The first NUL byte or invalid UTF-8 sequence of a text file has been reached (or a
    line longer than any record may be)."""

    def __init__(
        self, rule: Literal["binary", "encoding", "record-size"], *, codec: str = "utf-8"
    ) -> None:
        super().__init__(rule)
        self.rule = rule
        self.codec = codec  # the encoding the file was read in

    def malformed(self, after: int) -> Malformed:
        """The :class:`Malformed` for this break, after ``after`` good records."""
        if self.rule == "record-size":
            return Malformed(
                after + 1,
                "record-size",
                f"a line is longer than the limit of {MAX_RECORD_BYTES} characters",
            )
        if self.rule == "encoding" and self.codec != "utf-8":
            return Malformed(
                after + 1, "encoding", f"the file is not valid {self.codec} after record {after}"
            )
        if self.rule == "encoding":
            return Malformed(
                after + 1,
                "encoding",
                f"the file is not valid UTF-8 after record {after}: this looks like a "
                "Windows-1252 export from Excel (or Latin-1): re-export it as CSV UTF-8 or "
                "pass --encoding cp1252",
            )
        return Malformed(
            after + 1,
            "binary",
            f"the file contains a NUL byte after record {after}: it is not text (a UTF-16 "
            "export without a byte order mark? pass --encoding utf-16)",
        )


#: How far past the first broken byte (a NUL byte or the start of an invalid UTF-8 sequence)
#: a NUL byte makes the break ``binary`` rather than ``encoding``: most binary files have bad
#: UTF-8 close before their first NUL. Counted in the file's bytes, so the rule does not
#: depend on how the file is read (blocks, or the columnar engine's pieces).
BINARY_LOOKAHEAD: Final = 1 << 16


def _text_blocks(
    stream: IO[bytes], *, bom: bool = True, tail: Callable[[], bytes] | None = None
) -> Iterator[str]:
    """The UTF-8 text of a binary stream in blocks of about ``BLOCK_BYTES``; BOM dropped.

    At the first NUL byte or invalid UTF-8 sequence, the good text before it is yielded and
    then :class:`_Broken` is raised, so a reader parses (and checks) every record before the
    break and reports the break at the record where it is, not at the start of the block
    that holds it. In UTF-8 a NUL byte is only ever the NUL character: text never has one.
    The break is ``binary`` when a NUL byte is at it or within :data:`BINARY_LOOKAHEAD` bytes
    after it (bad UTF-8 shortly before a NUL, as in most binary files), else ``encoding``
    (a Latin-1 export, say). ``tail`` gives the bytes that follow ``stream`` in the file,
    when ``stream`` is a part of it (the engine's piece), for that look ahead.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    while True:
        raw = stream.read(BLOCK_BYTES)
        final = not raw
        nul = raw.find(b"\x00")
        chunk = raw if nul < 0 else raw[:nul]
        broken = None if nul < 0 else _Broken("binary")
        try:
            text = decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            # exc.object is the decoder's carried-over bytes followed by `chunk`
            after = exc.object[exc.start :]  # from the first broken byte on
            binary = len(after) < BINARY_LOOKAHEAD if nul >= 0 else _nul_ahead(after, stream, tail)
            broken = _Broken("binary" if binary else "encoding")
            good = max(0, exc.start - (len(exc.object) - len(chunk)))
            text = decoder.decode(chunk[:good], False)
        if bom and text:
            bom = False
            if text[0] == "\ufeff":
                text = text[1:]
        if text:
            yield text
        if broken is not None:
            raise broken
        if final:
            return


def _nul_ahead(after: bytes, stream: IO[bytes], tail: Callable[[], bytes] | None) -> bool:
    """Whether a NUL byte is within :data:`BINARY_LOOKAHEAD` bytes of the start of ``after``
    (the bytes from a break on), reading on in ``stream`` and then ``tail`` as needed."""
    window = after[:BINARY_LOOKAHEAD]
    if len(window) < BINARY_LOOKAHEAD:
        window += stream.read(BINARY_LOOKAHEAD - len(window))
    if len(window) < BINARY_LOOKAHEAD and tail is not None:
        window += tail()[: BINARY_LOOKAHEAD - len(window)]
    return b"\x00" in window


class _Text:
    """UTF-8 text from a binary stream, in blocks; a NUL byte or bad UTF-8 is reported, on
    the read after the good text before it, as :class:`Malformed` at the record reached so
    far (``where``, kept up to date by the caller)."""

    def __init__(
        self, stream: IO[bytes], *, bom: bool = True, tail: Callable[[], bytes] | None = None
    ) -> None:
        self._blocks = _text_blocks(stream, bom=bom, tail=tail)
        self.where = 0  # last record read
        self.eof = False

    def read(self) -> str:
        """The next block of text; ``""`` and ``eof`` set at the end of the file."""
        try:
            return next(self._blocks)
        except StopIteration:
            self.eof = True
            return ""
        except _Broken as broken:
            raise broken.malformed(self.where) from None


class LineMap:
    """The physical line (1-based) where each recent record starts, for reports that point
    at lines (SARIF, GitHub annotations). Readers add one segment per batch or block: a run
    of records on consecutive lines, or the start line of each record where records span
    lines (quoted newlines) or blank lines lie between them. Only the last few segments are
    kept, so memory stays flat; reports ask while the records are fresh."""

    KEEP: Final = 8

    def __init__(self) -> None:
        self._segments: list[tuple[int, int, int, list[int] | None]] = []

    def add(self, first_record: int, first_line: int, n: int, starts: list[int] | None) -> None:
        """Records ``first_record`` … ``first_record + n - 1`` start on ``first_line`` and the
        lines after it, or (``starts``) on the lines given."""
        if n:
            self._segments.append((first_record, first_line, n, starts))
            del self._segments[: -self.KEEP]

    def append(self, record: int, line: int) -> None:
        """Record ``record`` starts on ``line`` (records one at a time, in order)."""
        if self._segments:
            first, start, n, starts = self._segments[-1]
            if starts is not None and first + n == record and n < BATCH_ROWS:
                starts.append(line)
                self._segments[-1] = (first, start, n + 1, starts)
                return
        self.add(record, line, 1, [line])

    def line_of(self, record: int) -> int | None:
        for first, line, n, starts in reversed(self._segments):
            if first <= record < first + n:
                return line + (record - first) if starts is None else starts[record - first]
        return None


def _breaks(row: list[str]) -> int:
    """Line breaks inside the cells of a CSV row (LF, CRLF and CR each count once)."""
    return sum(c.count("\n") + c.count("\r") - c.count("\r\n") for c in row)


# --- CSV ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resume:
    """Where a :class:`CsvReader` takes up a file whose start another reader has read: the
    header and delimiter found there, and the records and physical lines before the point
    (a record boundary) where its stream starts."""

    header: list[str]
    delimiter: str
    records: int
    lines: int


class CsvReader:
    """Header and batches of rows (lists of strings) from a CSV file.

    UTF-8 with or without BOM, LF or CRLF, quoted cells with embedded newlines. The
    delimiter is ``,`` or ``;``: sniffed from the header line unless given. ``tail``, when
    ``stream`` is a part of a file (the engine's piece), gives the bytes after it, for the
    rule of a break near its end (:func:`_text_blocks`).
    """

    def __init__(
        self,
        stream: IO[bytes],
        *,
        delimiter: str | None = None,
        lines: LineMap | None = None,
        resume: Resume | None = None,
        tail: Callable[[], bytes] | None = None,
    ) -> None:
        physical = itertools.chain.from_iterable(
            _line_blocks(_text_blocks(stream, bom=resume is None, tail=tail))
        )
        self.records = 0
        self.header: list[str] | None = None
        self._lines = lines
        self._before = 0  # blank lines before the header
        if resume is not None:  # `stream` starts at a record boundary after the header
            self.header, self.delimiter = resume.header, resume.delimiter
            self.records, self._before = resume.records, resume.lines
            self._reader = csv.reader(physical, delimiter=self.delimiter, strict=True)
            self._wide = len(self.header) > 1
            return
        first = self._guard(lambda: next(physical, ""))
        while first and not first.strip():  # blank lines before the header
            self._before += 1
            first = self._guard(lambda: next(physical, ""))
        if not first:
            return
        self.delimiter = delimiter_char(delimiter) or _sniff(first)
        self._reader = csv.reader(
            itertools.chain([first], physical), delimiter=self.delimiter, strict=True
        )
        self.header = self._guard(lambda: next(self._reader, None))
        # With two or more columns, a line of only white space is a blank line too.
        self._wide = self.header is not None and len(self.header) > 1

    def _guard(self, read: Callable[[], _T]) -> _T:
        """Run ``read``, turning the ways a file can be broken into :class:`Malformed`."""
        try:
            return read()
        except (csv.Error, _Broken) as exc:
            raise self._problem(exc) from None

    def _problem(self, exc: Exception) -> Malformed:
        """The :class:`Malformed` for a reading failure after ``self.records`` good records."""
        after = self.records
        if isinstance(exc, csv.Error):
            return _csv_problem(exc, after + 1)
        assert isinstance(exc, _Broken)
        return exc.malformed(after)

    def _map_lines(self, batch: list[list[str]], line_before: int, consumed: int) -> None:
        """Where the records of ``batch`` (blank rows still in it) start."""
        assert self._lines is not None
        base = self._before + line_before + 1  # the line of the batch's first row
        blank = self._wide
        simple = not batch or min(map(len, batch)) > 1 or not blank
        if consumed == len(batch) and simple and [] not in batch:
            self._lines.add(self.records + 1, base, len(batch), None)
            return
        starts: list[int] = []
        line = base
        for row in batch:
            if len(row) > 1 or (row and (row[0].strip() or not blank)):
                starts.append(line)
            line += 1 + _breaks(row)
        self._lines.add(self.records + 1, base, len(starts), starts)

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
            line_before = reader.line_num
            try:
                # list.extend keeps the rows it got before an exception.
                batch.extend(itertools.islice(reader, BATCH_ROWS))
            except (csv.Error, _Broken) as exc:
                failure = exc
            read = len(batch)
            if self._lines is not None:
                self._map_lines(batch, line_before, reader.line_num - line_before)
            if batch and min(map(len, batch)) <= 1 and self._wide:  # blank lines
                batch = [row for row in batch if len(row) > 1 or (row and row[0].strip())]
            elif [] in batch:  # blank lines of a one-column file
                batch = [row for row in batch if row]
            self.records += len(batch)
            if batch:
                yield batch
            if failure is not None:
                raise self._problem(failure) from None
            if read == 0:
                return


# str.splitlines also splits at these; a file opened with newline="" does not.
_OTHER_LINE_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def _split_lines(text: str) -> list[str]:
    """Lines of ``text`` with their ends (LF, CRLF or CR only, as ``newline=""`` reads)."""
    if any(ch in text for ch in _OTHER_LINE_BREAKS):
        return io.StringIO(text, newline="").readlines()
    return text.splitlines(keepends=True)


def _line_blocks(blocks: Iterator[str]) -> Iterator[list[str]]:
    """Lines (ends kept; LF, CRLF or CR, as a file opened with ``newline=""`` gives them)
    from blocks of text, a block's lines at a time. A line cut by the end of a block is
    completed from the next ones (each block is looked at once, so a long line costs linear
    time); a line longer than ``MAX_RECORD_BYTES`` characters raises ``_Broken("record-size")``.
    When ``blocks`` raises, the cut line is dropped."""
    parts: list[str] = []  # the start of a line cut by the end of a block
    size = 0
    for text in blocks:
        ends_in_cr = bool(parts) and parts[-1][-1] == "\r"
        if "\n" not in text and "\r" not in text and not ends_in_cr:  # the cut line goes on
            parts.append(text)
            size += len(text)
            if size > MAX_RECORD_BYTES:
                raise _Broken("record-size")
            continue
        if parts:
            parts.append(text)
            text = "".join(parts)
        lines = _split_lines(text)
        # A last line without LF may go on in the next block (a CR may be half of a CRLF).
        parts = [lines.pop()] if lines[-1][-1] != "\n" else []
        size = len(parts[0]) if parts else 0
        if size > MAX_RECORD_BYTES:
            raise _Broken("record-size")
        if lines:
            yield lines
    if parts:
        yield ["".join(parts)]


def _sniff(header_line: str) -> str:
    """The delimiter that occurs most often in the header line outside quotes: ``,``, ``;``
    or a tab (``,`` on a tie, then ``;``)."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    return max(counts, key=lambda c: (counts[c], c == ",", c == ";"))


def _csv_problem(exc: csv.Error, record: int) -> Malformed:
    text = str(exc)
    if "field larger than field limit" in text:
        return Malformed(
            record, "cell-size", f"a cell is longer than the limit of {MAX_CELL_BYTES} characters"
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


def _batched(items: Iterator[_T]) -> Iterator[list[_T]]:
    """``items`` in lists of ``BATCH_ROWS``. When ``items`` raises :class:`Malformed`, the
    items before it are yielded first, so they are checked and counted."""
    while True:
        batch: list[_T] = []
        failure: Malformed | None = None
        try:
            batch.extend(itertools.islice(items, BATCH_ROWS))  # keeps items got before a raise
        except Malformed as exc:
            failure = exc
        if batch:
            yield batch
        if failure is not None:
            raise failure
        if len(batch) < BATCH_ROWS:
            return


def jsonl_batches(stream: IO[bytes], *, lines: LineMap | None = None) -> Iterator[list[Any]]:
    """Records of a JSON Lines file in batches; a line that does not parse is a
    :class:`Malformed` item (rule ``json-syntax``) and reading goes on."""
    return _batched(_jsonl_items(stream, lines))


def jsonl_batches_at(
    stream: IO[bytes],
    lines: LineMap | None,
    record: int,
    physical: int,
    *,
    tail: Callable[[], bytes] | None = None,
) -> Iterator[list[Any]]:
    """:func:`jsonl_batches` of a part of a file that starts at a line boundary, after
    ``record`` records on ``physical`` lines (its start is not the file's: no byte order
    mark is dropped; ``tail`` gives the bytes after the part, see :func:`_text_blocks`)."""
    items = _jsonl_items(stream, lines, record=record, physical=physical, bom=False, tail=tail)
    return _batched(items)


def jsonl_records(lines: list[bytes]) -> list[Any]:
    """The records of lines that the precise path reads without a problem, as it reads them
    (the columnar engine's screened pieces, :mod:`ketenx.records.engine.jsonl`)."""
    decode = fast_decode
    return [decode(line.decode("utf-8")) for line in lines]


def _jsonl_items(
    stream: IO[bytes],
    line_map: LineMap | None = None,
    *,
    record: int = 0,
    physical: int = 0,  # lines before the block
    bom: bool = True,
    tail: Callable[[], bytes] | None = None,
) -> Iterator[Any]:
    text = _Text(stream, bom=bom, tail=tail)
    decode = fast_decode  # orjson, the precise decoder wherever they could differ
    count = str.count
    pending = ""
    while True:
        text.where = record
        data = pending + text.read()
        if text.eof:
            lines, pending = data.split("\n"), ""
        else:
            lines = data.split("\n")
            pending = lines.pop()
            if len(pending) > MAX_RECORD_BYTES:
                raise _Broken("record-size").malformed(record)
        if line_map is not None:
            _map_jsonl(line_map, lines, record, physical)
            physical += len(lines)
        for line in lines:
            if not line.strip():
                continue
            record += 1
            try:
                value = decode(line)
            except OutOfRange:
                yield Malformed(record, "json-syntax", OUT_OF_RANGE)
            except ValueError as exc:
                col = getattr(exc, "colno", None)
                where = f" at column {col}" if col else ""
                yield Malformed(record, "json-syntax", f"the line is not valid JSON{where}")
            except RecursionError:
                yield Malformed(record, "json-syntax", TOO_DEEP)
            except DuplicateKey:
                yield _duplicate(record, line)
            else:
                # The bracket count (C-level) spares the walk for all but a few lines.
                if count(line, "[") + count(line, "{") > MAX_DEPTH and too_deep(line, value):
                    yield Malformed(record, "json-syntax", TOO_DEEP)
                    continue
                problem = _unpaired_surrogate(line, value, record)
                yield value if problem is None else problem
        if text.eof:
            return


# --- JSON array ---------------------------------------------------------------------------


def _map_jsonl(line_map: LineMap, lines: list[str], record: int, physical: int) -> None:
    """Where the records of a block of JSON Lines start (blank lines hold none)."""
    if all(map(str.strip, lines)):  # no blank line (C-level; the usual case)
        line_map.add(record + 1, physical + 1, len(lines), None)
        return
    blank = [i for i, line in enumerate(lines) if not line.strip()]
    if not blank:
        line_map.add(record + 1, physical + 1, len(lines), None)
        return
    skip = set(blank)
    starts = [physical + 1 + i for i in range(len(lines)) if i not in skip]
    line_map.add(record + 1, physical + 1, len(starts), starts)


def json_array_batches(stream: IO[bytes], *, lines: LineMap | None = None) -> Iterator[list[Any]]:
    """Elements of a top-level JSON array, parsed incrementally: memory holds one block and
    the element being parsed (at most ``MAX_RECORD_BYTES``). When the array breaks off (a
    syntax error, content after it), the records before the break are yielded first."""
    return _batched(_json_array_items(stream, lines))


def _json_array_items(stream: IO[bytes], line_map: LineMap | None = None) -> Iterator[Any]:
    return _ArrayItems(stream, line_map).items()


class _ArrayItems:
    """The elements of a JSON array read from a stream block by block: the state of one
    read (the text so far, the cursor, the line of the text's start, the record count)."""

    def __init__(self, stream: IO[bytes], line_map: LineMap | None) -> None:
        self.text = _Text(stream)
        self.line_map = line_map
        # The line of buf[0], and a cursor: lines are counted up to each element's start.
        self.line, self.counted = 1, 0
        self.buf = self.text.read()
        self.pos = 0
        self.record = 0

    def _read_on(self) -> None:
        """Keep the text from the cursor on and append the next block."""
        self.line, self.counted = self.line + self.buf.count("\n", self.counted, self.pos), 0
        self.buf = self.buf[self.pos :] + self.text.read()
        self.pos = 0

    def _start_record(self) -> None:
        """An element starts at the cursor: count it (and map its line)."""
        self.line = self.line + self.buf.count("\n", self.counted, self.pos)
        self.counted = self.pos
        if self.line_map is not None:
            self.line_map.append(self.record + 1, self.line)
        self.record += 1
        self.text.where = self.record

    def _opened(self) -> bool:
        """Past the opening bracket; False for a file of white space only."""
        self.pos = _skip_ws(self.buf, 0)
        while self.pos >= len(self.buf) and not self.text.eof:
            self.line += self.buf.count("\n")
            self.buf = self.text.read()
            self.pos = _skip_ws(self.buf, 0)
        if self.pos >= len(self.buf):
            return False  # an empty file holds no records, as an empty CSV or JSONL file does
        if self.buf[self.pos] != "[":
            raise Malformed(0, "json-structure", "the file is not a JSON array of records")
        self.pos += 1
        return True

    def items(self) -> Iterator[Any]:
        if not self._opened():
            return
        expect_value, first = True, True
        while True:
            self.pos = _skip_ws(self.buf, self.pos)
            if self.pos >= len(self.buf):
                if self.text.eof:
                    raise Malformed(self.record + 1, "json-syntax", "the JSON array is not closed")
                self._read_on()
                continue
            ch = self.buf[self.pos]
            if ch == "]" and (first or not expect_value):
                self.pos += 1
                break
            if not expect_value:
                if ch != ",":
                    raise Malformed(
                        self.record + 1, "json-syntax", "expected `,` or `]` after a record"
                    )
                self.pos += 1
                expect_value = True
                continue
            element = self._element()
            if element is _READ_ON:
                continue
            yield element
            expect_value, first = False, False
        self._only_white_space_after()

    def _element(self) -> Any:
        """The element at the cursor (or a :class:`Malformed` to yield), the cursor after
        it; ``_READ_ON`` when it may go on in the next block (read on: try again)."""
        buf, pos, record = self.buf, self.pos, self.record
        try:
            value, end = DECODER.raw_decode(buf, pos)
        except RecursionError:
            raise Malformed(record + 1, "json-syntax", TOO_DEEP) from None
        except OutOfRange:
            raise Malformed(record + 1, "json-syntax", OUT_OF_RANGE) from None
        except (ValueError, DuplicateKey) as exc:
            # A duplicate key: the element is still JSON, so reading goes on after it.
            stop = _element_end(buf, pos) if isinstance(exc, DuplicateKey) else None
            if stop is not None:
                self._start_record()
                self.pos = stop
                return _duplicate(self.record, buf[pos:stop])
            self._cut_short(record)
            return _READ_ON
        if end >= len(buf) and not self.text.eof and not isinstance(value, dict | list | str):
            # A number at the end of a block may be cut short: read on and parse again.
            self._read_on()
            return _READ_ON
        self._start_record()
        self.pos = end
        if too_deep(buf, value, pos, end):
            return Malformed(self.record, "json-syntax", TOO_DEEP)
        problem = _unpaired_surrogate(buf[pos:end], value, self.record)
        if problem is not None:
            raise problem
        return value

    def _cut_short(self, record: int) -> None:
        """An element that does not parse: maybe it continues in the next block."""
        if self.text.eof:
            raise Malformed(record + 1, "json-syntax", "the record is not valid JSON") from None
        if len(self.buf) - self.pos > MAX_RECORD_BYTES:
            raise Malformed(
                record + 1,
                "record-size",
                f"a record is longer than {MAX_RECORD_BYTES} characters",
            ) from None
        self._read_on()

    def _only_white_space_after(self) -> None:
        """Only white space may follow the array."""
        while True:
            self.pos = _skip_ws(self.buf, self.pos)
            if self.pos < len(self.buf):
                raise Malformed(
                    self.record, "json-syntax", "unexpected content after the JSON array"
                )
            if self.text.eof:
                return
            self.buf, self.pos = self.text.read(), 0


#: What :meth:`_ArrayItems._element` returns when it must read on before it can tell.
_READ_ON: Final = object()


def _duplicate(record: int, text: str) -> Malformed:
    """The report of a record that holds a key twice in one object (top level or nested)."""
    return Malformed(record, "duplicate-key", DUPLICATE_KEY, duplicate_at(text))


_NO_HOOK = json.JSONDecoder()


def _element_end(buf: str, pos: int) -> int | None:
    """Where the JSON value at ``buf[pos]`` ends, ignoring duplicate keys; ``None`` when it
    does not parse (yet)."""
    try:
        return _NO_HOOK.raw_decode(buf, pos)[1]
    except (ValueError, RecursionError):
        return None


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
