"""A CSV byte stream cut into pieces on record boundaries, each parsed by pyarrow.

The header is read by ketenx's precise reader (:class:`ketenx.records.readers.CsvReader`), so header
handling is the same as ever. After it the stream is cut after a line feed where the count
of quote characters so far is even. A piece without quotes is whole records by
construction; a piece with quotes is whole records when it matches the CSV grammar of
Python's strict ``csv`` module (a quoted cell starts a cell and ends before a delimiter or a
line end), which is checked. A piece is then parsed by pyarrow with every column typed as
a string. Whatever pyarrow cannot be trusted with — a NUL byte, invalid UTF-8 (pyarrow
refuses it), a ragged row or a white-space line (pyarrow refuses it), a cell over the size
limit — is a :class:`Piece` without a table: the caller re-reads those bytes with the
precise reader, taken up at the piece's first record and line. A piece whose quoting is not
plain ends the cutting: the rest of the stream goes to the precise reader as a whole.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Final, TypeVar, cast

from ..readers import BINARY_LOOKAHEAD, MAX_CELL_BYTES, CsvReader, Malformed, Resume

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

_BOM: Final = b"\xef\xbb\xbf"
_BLANK: Final = b" \t\r\n\xef\xbb\xbf"  # what a line before the header may hold
PIECE_BYTES: Final = 1 << 19
MAX_PIECE_BYTES: Final = 8 << 20  # no cut found by then: the precise reader takes over
_HEAD_BYTES: Final = 1 << 16


def use_lean_memory_pool() -> None:
    """Make pyarrow's default memory pool one that hands freed pieces back, unless the user
    chose one (``ARROW_DEFAULT_MEMORY_POOL``): the default (mimalloc) keeps them, measured
    20-30 MB more at the peak of a streaming ``check``. jemalloc where the build has it, else
    the system allocator."""
    import os

    import pyarrow as pa

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # pragma: no cover - a build without jemalloc
        pa.set_memory_pool(pa.system_memory_pool())


def _utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8, checked in C without a copy (a piece of whole records
    never ends inside a character)."""
    if data.isascii():
        return True
    import numpy as np
    import pyarrow as pa

    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int32).tobytes())
    text = pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        text.cast(pa.string())
    except pa.ArrowInvalid:
        return False
    return True


def _lines(data: bytes) -> int:
    """Physical lines in ``data`` as the precise reader counts them (LF, CRLF, CR)."""
    lf = data.count(b"\n")
    if b"\r" not in data:
        return lf
    return lf + data.count(b"\r") - data.count(b"\r\n")


@dataclass
class Piece:
    data: bytes
    lines_before: int  # physical lines of the file before this piece
    table: pa.Table | None  # None: re-read by the precise reader
    rest: bool = False  # the precise reader reads from here to the end (``stream``)
    stream: IO[bytes] | None = None

    def one_line_records(self) -> bool:
        """Whether each record of the table is one physical line, in order (no blank line, no
        line break inside a cell): then record i starts on line ``lines_before + 1 + i``."""
        if self.table is None:
            return False
        ends = _lines(self.data)
        if not self.data.endswith((b"\n", b"\r")):
            ends += 1
        return bool(ends == self.table.num_rows)


class _Joined(io.RawIOBase):
    """``head`` followed by what is left of ``stream``."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._head:
            n = len(self._head) if size is None or size < 0 else size
            out, self._head = self._head[:n], self._head[n:]
            return out
        return self._stream.read(-1 if size is None else size)

    def readinto(self, buffer: Any) -> int:  # pragma: no cover - the readers call read()
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _grammar(delimiter: str) -> re.Pattern[bytes]:
    d = re.escape(delimiter.encode("utf-8"))
    cell = rb'(?:"(?:[^"]++|"")*+"|[^"' + d + rb"\r\n]*+)"
    record = cell + rb"(?:" + d + cell + rb")*"
    return re.compile(rb"(?:" + record + rb"(?:\r\n|\n|\r))*(?:" + record + rb")?")


_C = TypeVar("_C")
_R = TypeVar("_R")


def parsed_ahead(
    cuts: Iterable[_C], parse: Callable[[_C], _R], cut_ahead: Callable[[_C | None], None]
) -> Generator[tuple[_C, _R], None, None]:
    """Each of ``cuts`` with ``parse(cut)``, parsed on a helper thread one cut ahead (pyarrow
    does not hold the GIL) while the caller works on the one before. ``cut_ahead`` is told
    the cut being parsed before the one before it is given (``None`` at the end), so that a
    reader's look-ahead past a break in a given piece sees the bytes that follow it."""
    from concurrent.futures import Future, ThreadPoolExecutor

    pending: tuple[_C, Future[_R]] | None = None
    with ThreadPoolExecutor(1, thread_name_prefix="ketenx-parse") as pool:
        for cut in cuts:
            job = pool.submit(parse, cut)
            if pending is not None:
                cut_ahead(cut)
                yield pending[0], pending[1].result()
            pending = (cut, job)
        cut_ahead(None)
        if pending is not None:
            yield pending[0], pending[1].result()


class CsvSource:
    """Header (by the precise reader) and :class:`Piece` s of a CSV stream."""

    def __init__(
        self,
        stream: IO[bytes],
        *,
        delimiter: str | None = None,
        columns: Callable[[list[str]], Iterable[int]] | None = None,
        piece_bytes: int | None = None,
    ) -> None:
        """``columns``: given the header, the positions of the columns the caller reads
        (default: all); the others are parsed but not converted, and the piece's bytes are
        checked as UTF-8 as a whole instead. ``piece_bytes``: the size pieces are cut at
        (default :data:`PIECE_BYTES`)."""
        self._columns = columns
        self._piece = piece_bytes or PIECE_BYTES
        self._include: list[str] | None = None
        self._stream = stream
        self._buf = b""
        self._ahead = b""  # a piece cut and being parsed, not given yet (see following)
        self._eof = False
        self.header: list[str] | None = None
        self.delimiter = ","
        self.lines = 0  # physical lines before the first piece
        self.fallback: IO[bytes] | None = None  # read the whole stream precisely instead
        use_lean_memory_pool()
        self._read_header(delimiter)

    def _fill(self, size: int) -> None:
        while not self._eof and len(self._buf) < size:
            chunk = self._stream.read(max(size - len(self._buf), self._piece))
            if not chunk:
                self._eof = True
            else:
                self._buf += chunk

    def _give_up(self) -> None:
        self.fallback = cast(IO[bytes], _Joined(self._buf, self._stream))
        self._buf = b""

    def _read_header(self, delimiter: str | None) -> None:
        self._fill(_HEAD_BYTES)
        buf = self._buf
        if buf.startswith((b"\xff\xfe", b"\xfe\xff")):
            self._give_up()
            return
        cut = -1
        pos = buf.find(b"\n")
        # Running counts (linear in the head): quotes so far, and whether any text came yet.
        quotes = buf.count(b'"', 0, max(pos, 0))
        text = bool(buf[: max(pos, 0)].strip(_BLANK))
        while pos >= 0:
            if quotes % 2 == 0 and text:
                cut = pos + 1
                break
            following = buf.find(b"\n", pos + 1)
            line = buf[pos : following if following >= 0 else len(buf)]
            quotes += line.count(b'"')
            text = text or bool(line.strip(_BLANK))
            pos = following
        if cut < 0:
            self._give_up()
            return
        head = buf[:cut]
        try:
            reader = CsvReader(io.BytesIO(head), delimiter=delimiter)
            extra = next(reader.batches(), None)
        except Malformed:
            self._give_up()
            return
        if len(reader.delimiter.encode("utf-8")) != 1:  # pyarrow takes a one-byte delimiter
            self._give_up()
            return
        if reader.header is None or extra is not None or b"\x00" in head:
            self._give_up()
            return
        self.header, self.delimiter = reader.header, reader.delimiter
        self.lines = _lines(head)
        self._buf = buf[cut:]
        self._grammar = _grammar(self.delimiter)

    def resume(self, records: int, lines: int) -> Resume:
        assert self.header is not None
        return Resume(self.header, self.delimiter, records, lines)

    def following(self) -> bytes:
        """The bytes after the pieces given so far, up to the readers' look-ahead past a
        break (:data:`~ketenx.records.readers.BINARY_LOOKAHEAD`; fewer at the end), left for
        the next piece."""
        if len(self._ahead) >= BINARY_LOOKAHEAD:
            return self._ahead[:BINARY_LOOKAHEAD]
        self._fill(BINARY_LOOKAHEAD)
        return (self._ahead + self._buf)[:BINARY_LOOKAHEAD]

    def pieces(self) -> Iterator[Piece]:
        """The pieces after the header, in order. The next piece is parsed by pyarrow on a
        helper thread while the caller judges one (:func:`parsed_ahead`); the bytes are cut
        and read here, in order."""
        if self._columns is not None and self._include is None and self.header is not None:
            self._include = [f"c{i}" for i in sorted(set(self._columns(self.header)))]
        with contextlib.closing(
            parsed_ahead(self._cuts(), self._parse_cut, self._cut_ahead)
        ) as cut:
            for (data, lines, rest), table in cut:
                if rest:
                    yield self._rest(self._buf, lines)  # (what following() may have read too)
                    return
                yield Piece(data, lines, table)

    def _parse_cut(self, cut: tuple[bytes, int, bool]) -> pa.Table | None:
        data, _, rest = cut
        return None if rest else self._parse(data)

    def _cut_ahead(self, cut: tuple[bytes, int, bool] | None) -> None:
        """A piece cut and being parsed, not given yet, follows the piece given (following)."""
        self._ahead = cut[0] if cut is not None and not cut[2] else b""

    def _cuts(self) -> Iterator[tuple[bytes, int, bool]]:
        """The bytes of each piece and the lines before it; last, perhaps, where the precise
        reader takes over (``True``: the rest from those bytes on)."""
        lines = self.lines
        while True:
            self._fill(self._piece)
            buf = self._buf
            if not buf:
                return
            cut = self._cut(buf)
            while cut < 0 and not self._eof and len(buf) < MAX_PIECE_BYTES:
                self._fill(len(buf) + self._piece)
                buf = self._buf
                cut = self._cut(buf)
            if cut < 0 and not self._eof:  # no record boundary in sight
                yield buf, lines, True
                return
            data = buf if cut < 0 else buf[:cut]
            if b'"' in data and not self._plain_quoting(data):
                yield buf, lines, True  # (_buf stays what follows the pieces cut: following)
                return
            self._buf = buf[len(data) :]
            yield data, lines, False
            lines += _lines(data)

    def _rest(self, buf: bytes, lines: int) -> Piece:
        """The precise reader takes over from ``buf`` (a record boundary) to the end."""
        return Piece(
            b"", lines, None, rest=True, stream=cast(IO[bytes], _Joined(buf, self._stream))
        )

    def _plain_quoting(self, data: bytes) -> bool:
        """Whether every run of lines of ``data`` that holds a quote is whole records of
        strict CSV (checked run by run: the lines between them hold no quote, so their line
        ends are record ends)."""
        fullmatch = self._grammar.fullmatch
        pos = data.find(b'"')
        while pos >= 0:
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            quotes = data.count(b'"', start, end if end >= 0 else len(data))
            while end >= 0 and quotes % 2:  # a running count: linear in the run of lines
                following = data.find(b"\n", end + 1)
                quotes += data.count(b'"', end, following if following >= 0 else len(data))
                end = following
            end = len(data) if end < 0 else end + 1
            if fullmatch(data, start, end) is None:
                return False
            pos = data.find(b'"', end)
        return True

    def _cut(self, buf: bytes) -> int:
        """After the last line feed of ``buf`` with an even count of quotes before it."""
        limit = len(buf) if self._eof else min(len(buf), self._piece)
        pos = buf.rfind(b"\n", 0, limit)
        if b'"' not in buf:
            return pos + 1 if pos >= 0 else -1
        quotes = buf.count(b'"', 0, pos) if pos >= 0 else 0
        while pos >= 0:  # stepping back, the count before each line feed is kept up to date
            if quotes % 2 == 0:
                return pos + 1
            before = buf.rfind(b"\n", 0, pos)
            quotes -= buf.count(b'"', before + 1, pos)
            pos = before
        return -1

    def _parse(self, data: bytes) -> pa.Table | None:
        """``data`` as a table of string columns, or None where pyarrow may differ from the
        precise reader."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pcsv

        if b"\x00" in data or not (data[:4096].strip(b"\r\n") or data.strip(b"\r\n")):
            return None
        if data.startswith(_BOM):  # pyarrow drops a BOM at the start of every buffer it reads
            return None
        assert self.header is not None
        names = [f"c{i}" for i in range(len(self.header))]
        if self._columns is not None and self._include is None:
            self._include = [names[i] for i in sorted(set(self._columns(self.header)))]
        if self._include is not None and not _utf8(data):
            return None
        try:
            table = pcsv.read_csv(
                pa.py_buffer(data),
                read_options=pcsv.ReadOptions(
                    column_names=names, use_threads=False, block_size=max(len(data), 1 << 16)
                ),
                parse_options=pcsv.ParseOptions(
                    delimiter=self.delimiter,
                    quote_char='"',
                    double_quote=True,
                    escape_char=False,
                    newlines_in_values=True,
                    ignore_empty_lines=True,
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.string()),
                    include_columns=self._include or [],
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                    null_values=[],
                    check_utf8=True,
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        if len(data) > MAX_CELL_BYTES:  # else no cell can be longer than the limit
            if self._include is not None:
                return None  # the columns not converted could hold one
            for column in table.columns:
                if len(column) and pc.max(pc.binary_length(column)).as_py() > MAX_CELL_BYTES:
                    return None
        return table
