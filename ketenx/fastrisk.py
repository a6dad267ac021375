"""Equivalence classes of a CSV file counted on Apache Arrow: the fast path of ``ketenx risk``.

The figures are the same as the precise path's (:func:`ketenx.privacy_reports.read_columns`,
the contract's treatments, :class:`ketenx.risk.RiskCounter`), by construction:

* pyarrow's streaming CSV reader parses the file, every column typed as a string (no
  inference: a postcode or BSN keeps its leading zero), only the columns measured;
* each batch's column is dictionary-encoded; its **distinct** cells (not its rows) go
  through the same Python code as the precise path — the schema's coercion, the
  contract's treatment, the counter's coding of output values — remembered across batches;
* each record's class is the combination of its columns' codes, counted with numpy and
  added to the counter in the counter's own key layout, so :func:`ketenx.risk.assess` sees
  exactly what the precise path would have given it.

Arrow and Python's ``csv`` module agree on well-formed CSV, not on every broken file, and
the precise reader's limits (NUL bytes, bad UTF-8 anywhere in the file, cell and line
sizes) are not Arrow's. So the bytes are screened on their way to Arrow (:class:`_Screen`):
at the first sign that the two could differ — a quote that is not where RFC 4180 puts one,
a line or quoted cell longer than the cell limit, a NUL byte, bad UTF-8, an unclosed quote —
and whenever Arrow itself refuses the file, :class:`Unsuitable` is raised and the caller
counts the file again on the precise path, which then names the record and the rule.
Nothing from Arrow's own messages (they quote the row) is ever shown.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from .readers import MAX_CELL_BYTES, CsvReader, Malformed
from .risk import Policy, RiskCounter
from .treatments import age_label, age_reference
from .validation import RecordSchema

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from .contract import FieldSpec
    from .pipeline import Transformer

#: Bytes parsed at a time (1 MiB: as fast as larger blocks here, and less memory).
BLOCK_BYTES = 1 << 20
#: The longest run of bytes without a record end carried from block to block.
MAX_CARRY = 4 * MAX_CELL_BYTES
#: Distinct cells remembered per column before the memory is cleared (memory stays flat).
MEMO_LIMIT = 1 << 20

_QUOTE = ord('"')
_BOM = b"\xef\xbb\xbf"
_NEWLINE = ord("\n")


class Unsuitable(Exception):
    """The file must be read by the precise reader (the reason is for tests, not users)."""


@dataclass(frozen=True)
class Reduction:
    """An exact shortcut, in Arrow, for a generalisation. ``split`` takes a column's
    distinct cells and returns the positions of those it covers (the written forms whose
    output is beyond doubt) and, for each, a short key; ``output`` gives the output values of
    distinct keys. The other cells take the column's own path. A 7-character postcode, say,
    becomes its four digits, so Python sees a few thousand keys instead of one per address."""

    split: Callable[[pa.Array], tuple[np.ndarray, Any]]  # positions; numpy or Arrow keys
    output: Callable[[list[Any]], Sequence[Any]]


@dataclass(frozen=True)
class Column:
    """A measured output column: the CSV header name it is read from, the function that
    turns a list of distinct cells into output values (coercion, then the treatment), and
    the treatment's shortcut in Arrow, if it has one."""

    source: str
    values: Callable[[list[str]], Sequence[Any]]
    reduction: Reduction | None = None


class _Screen:
    """Screens the bytes of a CSV file, block by block, before Arrow parses them (see the
    module docstring), and finds where the last whole record of a block ends.

    Quotes are tracked by parity: in a file whose quotes all sit where RFC 4180 puts them,
    every quote that opens a quoted stretch follows a delimiter, a line break, the start of
    the file or another quote, and every quote that closes one is followed by a delimiter,
    a line break, the end of the file or another quote (a doubled quote closes and reopens).
    A file that passes is read the same by Arrow and by Python's ``csv``; anything else is
    :class:`Unsuitable`. A line break outside quotes ends a record."""

    def __init__(self, delimiter: str) -> None:
        self._delim = ord(delimiter)
        self._offset = 0  # bytes screened so far
        self._quoted = False  # inside a quoted stretch at the end of the last block
        self._opened_at = 0  # where the open quoted stretch began
        self._last = _NEWLINE  # the byte before this block (the file starts as a line does)
        self._closing_pending = False  # the last block ended with a closing quote
        self._line_start = 0  # where the current line began

    def screen(self, chunk: bytes) -> int:
        """Screen the next block (``b""`` at the end of the file); returns the length of its
        part up to and including the last line break outside quotes (0: none)."""
        import numpy as np

        if not chunk:
            if self._quoted:
                raise Unsuitable("a quoted cell is never closed")
            if self._closing_pending:
                self._closing_pending = False
            return 0
        if b"\x00" in chunk:
            raise Unsuitable("NUL byte")
        if self._closing_pending and chunk[0] not in (_QUOTE, self._delim, 10, 13):
            raise Unsuitable("text after a closing quote")
        self._closing_pending = False
        self._lines(chunk)
        quoted_before = self._quoted
        at = None
        if self._quoted or b'"' in chunk:
            at = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == _QUOTE)
            self._quotes(at, chunk)
        self._last = chunk[-1]
        self._offset += len(chunk)
        return _record_end(chunk, at, quoted_before)

    def _lines(self, chunk: bytes) -> None:
        """No line is longer than a cell may be (which also keeps every unquoted cell, and
        every line, within the precise reader's limits)."""
        first = chunk.find(b"\n")
        if first < 0:
            if self._offset + len(chunk) - self._line_start > MAX_CELL_BYTES:
                raise Unsuitable("long line")
            return
        if self._offset + first - self._line_start > MAX_CELL_BYTES:
            raise Unsuitable("long line")
        if len(chunk) > MAX_CELL_BYTES:  # two line breaks further apart than the limit?
            import numpy as np

            ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == _NEWLINE)
            if ends.size > 1 and int(np.diff(ends).max()) > MAX_CELL_BYTES:
                raise Unsuitable("long line")
        self._line_start = self._offset + chunk.rfind(b"\n") + 1

    def _quotes(self, at: np.ndarray, chunk: bytes) -> None:
        import numpy as np

        buf = np.frombuffer(chunk, dtype=np.uint8)
        if at.size == 0:  # inside a quoted stretch that goes on
            if self._offset + len(chunk) - self._opened_at > MAX_CELL_BYTES:
                raise Unsuitable("long quoted cell")
            return
        # The quote at at[i] opens a stretch when an even number of quotes came before it.
        first_opens = not self._quoted
        opens = at[0 if first_opens else 1 :: 2]
        closes = at[1 if first_opens else 0 :: 2]
        before = np.empty(opens.size, dtype=np.uint8)
        inside = opens > 0
        before[inside] = buf[opens[inside] - 1]
        before[~inside] = self._last
        if not np.isin(before, (self._delim, 10, 13, _QUOTE)).all():
            raise Unsuitable("a quote inside an unquoted cell")
        last = len(chunk) - 1
        after_pos = closes[closes < last] + 1
        if not np.isin(buf[after_pos], (self._delim, 10, 13, _QUOTE)).all():
            raise Unsuitable("text after a closing quote")
        self._closing_pending = bool(closes.size) and int(closes[-1]) == last
        # Quoted stretches: from an opening quote to its closing one.
        starts = opens + self._offset
        ends = closes + self._offset
        if not first_opens:
            starts = np.concatenate(([self._opened_at], starts))
        self._quoted = starts.size > ends.size
        if self._quoted:
            self._opened_at = int(starts[-1])
            starts = starts[:-1]
            if self._offset + len(chunk) - self._opened_at > MAX_CELL_BYTES:
                raise Unsuitable("long quoted cell")
        if starts.size and int((ends - starts).max()) > MAX_CELL_BYTES:
            raise Unsuitable("long quoted cell")


def _record_end(chunk: bytes, quotes: np.ndarray | None, quoted_before: bool) -> int:
    """The length of ``chunk`` up to and including its last line break outside quotes."""
    import numpy as np

    end = chunk.rfind(b"\n")
    while end >= 0:
        if quotes is None:
            return end + 1
        before = int(np.searchsorted(quotes, end))
        if (before + quoted_before) % 2 == 0:
            return end + 1
        # Inside a quoted stretch: look before the quote that opened it.
        opened = int(quotes[before - 1]) if before else 0
        end = chunk.rfind(b"\n", 0, opened)
    return 0


def _header(path: str, delimiter: str | None) -> tuple[list[str], str]:
    """The header and delimiter as the precise reader sees them."""
    from .fileio import open_input

    with open_input(path) as fh:
        try:
            reader = CsvReader(fh, delimiter=delimiter)
        except Malformed:
            raise Unsuitable("broken before the first record") from None
        if reader.header is None:
            raise Unsuitable("no header")
        return reader.header, reader.delimiter


@dataclass
class _Group:
    """Distinct items of one batch's column that share a memory: reduced keys, or cells."""

    first: np.ndarray  # position, among the batch's distinct cells, of each item's first
    items: list[Any]
    memo: dict[Any, int]
    values: Callable[[list[Any]], Sequence[Any]]
    rows: np.ndarray  # the distinct cells the group covers
    where: np.ndarray | None  # per covered cell, its item (None: one item per cell)
    codes: Any = None  # per item, once coded (numpy)


class _Codes:
    """Per measured column: the code of each distinct cell seen (memory bounded)."""

    def __init__(self, counter: RiskCounter, column: Column, tables: list[Any], j: int) -> None:
        self.counter = counter
        self.column = column
        self.tables = tables
        self.j = j
        self.memo: dict[str, int] = {}
        self.reduced: dict[Any, int] = {}  # the same for the keys of a reduction

    def of(self, array: pa.Array) -> np.ndarray:
        """The code of every cell of one batch's column."""
        encoded = array.dictionary_encode()
        codes = self._distinct(encoded.dictionary)
        result: np.ndarray = codes[_numbers(encoded.indices)]
        return result

    def _distinct(self, cells: pa.Array) -> np.ndarray:
        """The codes of distinct cells (in order of first appearance, as the precise path
        codes values: new values get new codes in the order they first occur)."""
        import numpy as np

        n = len(cells)
        codes = np.empty(n, dtype=np.int64)
        groups: list[_Group] = []
        reduction = self.column.reduction
        at = np.empty(0, dtype=np.int64)
        if reduction is not None:
            at, keys = reduction.split(cells)
        if at.size:
            assert reduction is not None
            if isinstance(keys, np.ndarray):
                distinct, first, where = np.unique(keys, return_index=True, return_inverse=True)
                items = distinct.tolist()
                where = where.reshape(-1)
            else:
                encoded = keys.dictionary_encode()
                items = encoded.dictionary.to_pylist()
                where = _numbers(encoded.indices)
                first = np.unique(where, return_index=True)[1]
            groups.append(_Group(at[first], items, self.reduced, reduction.output, at, where))
        if at.size < n:
            rest = np.ones(n, dtype=bool)
            rest[at] = False
            plain = np.flatnonzero(rest)
            items = (
                cells.to_pylist() if at.size == 0 else cells.filter(_arrow_mask(rest)).to_pylist()
            )
            groups.append(_Group(plain, items, self.memo, self.column.values, plain, None))
        self._code(groups)
        for group in groups:
            codes[group.rows] = group.codes if group.where is None else group.codes[group.where]
        return codes

    def _code(self, groups: list[_Group]) -> None:
        """Each group's codes: remembered items looked up (in C, one dictionary lookup
        each); new ones through their values, coded in order of first appearance."""
        import numpy as np

        new: list[tuple[int, int, int]] = []  # (first position, group, item)
        for g, group in enumerate(groups):
            group.codes = np.fromiter(
                map(group.memo.get, group.items, itertools.repeat(-1)),
                dtype=np.int64,
                count=len(group.items),
            )
            for i in np.flatnonzero(group.codes < 0).tolist():  # codes are never negative
                new.append((int(group.first[i]), g, i))
        if not new:
            return
        new.sort()
        outputs: dict[tuple[int, int], Any] = {}
        for g, group in enumerate(groups):
            mine = [i for _, h, i in new if h == g]
            if not mine:
                continue
            if len(group.memo) + len(mine) > MEMO_LIMIT:
                group.memo.clear()
            try:
                values = group.values([group.items[i] for i in mine])
            except Exception as exc:  # the precise path says which record, and why
                raise Unsuitable(type(exc).__name__) from None
            outputs.update(zip(((g, i) for i in mine), values, strict=True))
        ordered = [outputs[g, i] for _, g, i in new]
        for (_, g, i), code in zip(
            new, self.counter._column_codes(self.tables, self.j, ordered), strict=True
        ):
            groups[g].codes[i] = code
            groups[g].memo[groups[g].items[i]] = code


def _numbers(array: pa.Array) -> np.ndarray:
    """A null-free Arrow integer array as numpy, without a copy (``Array.to_numpy`` would
    import pandas, when it is installed, for nothing)."""
    import numpy as np

    dtype = np.dtype(f"int{array.type.bit_width}")
    data = array.buffers()[1]
    return np.frombuffer(data, dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


def _arrow_mask(mask: np.ndarray) -> pa.Array:
    """A numpy boolean array as an Arrow one (``pa.array`` would import pandas, when it is
    installed, for nothing: 45 MB and 0.2 s)."""
    import numpy as np
    import pyarrow as pa

    bits = pa.py_buffer(np.packbits(mask, bitorder="little").tobytes())
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, bits])


_SLICE = 1 << 16  # keys turned into Python integers at a time


class _Tally:
    """Exact counts of tuples of integer codes (numpy columns, one row per tuple), merged
    by sorting whenever ``LIMIT`` rows wait: memory stays bounded, nothing is hashed."""

    LIMIT = 1 << 16

    def __init__(self) -> None:
        self._parts: list[tuple[list[np.ndarray], np.ndarray]] = []
        self._waiting = 0  # rows added since the last merge
        self._merged = 0  # rows the last merge left

    def add(self, columns: list[np.ndarray], counts: np.ndarray) -> None:
        self._parts.append((columns, counts))
        self._waiting += len(counts)
        # Merged once the rows waiting outnumber the merged ones (and LIMIT): each row is
        # sorted O(log n) times, however many distinct tuples there are.
        if self._waiting > max(self.LIMIT, self._merged):
            self._merge()

    def _merge(self) -> None:
        import numpy as np

        width = len(self._parts[0][0])
        columns = [np.concatenate([p[0][j] for p in self._parts]) for j in range(width)]
        counts = np.concatenate([p[1] for p in self._parts])
        order = np.lexsort(columns[::-1])
        columns = [c[order] for c in columns]
        new = np.zeros(len(counts), dtype=bool)
        new[:1] = True
        for c in columns:
            new[1:] |= c[1:] != c[:-1]
        starts = np.flatnonzero(new)
        self._parts = [([c[starts] for c in columns], np.add.reduceat(counts[order], starts))]
        self._waiting = 0
        self._merged = len(starts)

    def result(self) -> tuple[list[np.ndarray], np.ndarray]:
        """The distinct tuples and how often each was counted."""
        if self._waiting or len(self._parts) != 1:
            self._merge()
        return self._parts[0]


class _Classes:
    """Records' classes and (class, sensitive value) pairs, counted in numpy: each class is
    its quasi-identifier codes packed into one 64-bit integer (``63 // q`` bits apiece; a
    column with more distinct values than that is :class:`Unsuitable`), the key layout the
    counter is then told of (:attr:`RiskCounter.bits`)."""

    def __init__(self, quasi: int, sensitive: int) -> None:
        self.width = 63 // quasi if quasi else 0
        self.records = 0
        self.classes = _Tally()
        self.pairs = [_Tally() for _ in range(sensitive)]

    def add(self, qcodes: list[np.ndarray], scodes: list[np.ndarray], n: int) -> None:
        import numpy as np

        keys = np.zeros(n, dtype=np.int64)
        for j, codes in enumerate(qcodes):
            if int(codes.max()) >> self.width:
                raise Unsuitable("too many distinct values to pack")
            keys |= codes << (self.width * j)
        self.records += n
        distinct, where, counts = np.unique(keys, return_inverse=True, return_counts=True)
        self.classes.add([distinct], counts)
        where = where.reshape(-1)
        for tally, codes in zip(self.pairs, scodes, strict=True):
            radix = int(codes.max()) + 1
            pair, pair_counts = np.unique(where * radix + codes, return_counts=True)
            cls, value = np.divmod(pair, radix)
            tally.add([distinct[cls], value], pair_counts)

    def into(self, counter: RiskCounter) -> None:
        """Fill a new ``counter`` with the counts (its keys are this packing's)."""
        counter.records = self.records
        counter.bits = self.width
        if not self.records:
            return
        (packed,), counts = self.classes.result()
        self.classes = _Tally()
        # The keys are distinct: dict.update, a slice at a time (no list of them all).
        for i in range(0, len(counts), _SLICE):
            part = zip(
                packed[i : i + _SLICE].tolist(), counts[i : i + _SLICE].tolist(), strict=True
            )
            dict.update(counter.classes, part)
        del packed, counts
        for pairs, tally in zip(counter.pairs, self.pairs, strict=True):
            (keys, values), pair_counts = tally.result()
            for i in range(0, len(pair_counts), _SLICE):
                combined = zip(
                    keys[i : i + _SLICE].tolist(), values[i : i + _SLICE].tolist(), strict=True
                )
                dict.update(pairs, zip(combined, pair_counts[i : i + _SLICE].tolist(), strict=True))


def count_csv(
    path: str,
    counter: RiskCounter,
    quasi: Sequence[Column],
    sensitive: Sequence[Column],
    *,
    delimiter: str | None = None,
    wrap: Callable[[IO[bytes]], IO[bytes]] = lambda s: s,
    records: Callable[[int], object] | None = None,
) -> None:
    """Count the records of the CSV file at ``path`` into ``counter`` (which must be new).

    ``quasi`` and ``sensitive`` give, in the policy's order, how each measured column is
    read (a column the file does not have is empty in every record). ``wrap`` wraps the raw
    file (progress); ``records`` is told the count so far. Raises :class:`Unsuitable` when
    the precise path must count the file instead (the counter is then to be discarded)."""
    import pyarrow as pa

    header, delim = _header(path, delimiter)
    if len(delim.encode("utf-8")) != 1:  # Arrow takes a one-byte delimiter only
        raise Unsuitable("a delimiter Arrow cannot take")
    if len(set(header)) != len(header):
        raise Unsuitable("duplicate column names")
    counting = _Counting(counter, quasi, sensitive, header, delim, records)
    # The next block is parsed (by Arrow, without the GIL) while this one is counted.
    with open(path, "rb") as raw, _arrow_memory(), ThreadPoolExecutor(1) as parser:
        try:
            pending = None
            for k, block in enumerate(_record_blocks(wrap(raw), _Screen(delim))):
                future = parser.submit(counting.parsed, k, block)
                if pending is not None:
                    counting.count(pending.result())
                pending = future
            if pending is not None:
                counting.count(pending.result())
        except Unsuitable:
            raise
        except (pa.ArrowException, OSError, ValueError) as exc:  # Arrow's text quotes rows
            raise Unsuitable(type(exc).__name__) from None
    counting.classes.into(counter)


class _Counting:
    """How the blocks of one file are parsed (any thread) and counted (one at a time)."""

    def __init__(
        self,
        counter: RiskCounter,
        quasi: Sequence[Column],
        sensitive: Sequence[Column],
        header: list[str],
        delimiter: str,
        records: Callable[[int], object] | None,
    ) -> None:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        present = set(header)
        tables = (counter._codes, counter._scodes)
        self.coders = [
            [
                _Codes(counter, c, tables[role], j) if c.source in present else None
                for j, c in enumerate(cols)
            ]
            for role, cols in enumerate((quasi, sensitive))
        ]
        self.header = header
        self.delimiter = delimiter
        self.parse = pacsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=True
        )
        self.convert = pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            include_columns=sorted({c.source for c in (*quasi, *sensitive) if c.source in present}),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        )
        self.options = pacsv.ReadOptions(use_threads=False, column_names=header)
        self.classes = _Classes(len(quasi), len(sensitive))
        self.records = records
        self.done = 0

    def parsed(self, k: int, block: bytes) -> Any:
        """Block ``k`` as an Arrow table of the measured columns (None: nothing in it)."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        _utf8(block)
        if k == 0:
            block = _after_header(block, self.header, self.delimiter)
        if not block:  # the header alone
            return None
        if block.startswith(_BOM):  # Arrow drops a BOM at the start of every buffer
            raise Unsuitable("a cell that starts with a byte order mark")
        return pacsv.read_csv(
            pa.py_buffer(block),
            read_options=self.options,
            parse_options=self.parse,
            convert_options=self.convert,
        )

    def count(self, table: Any) -> None:
        import numpy as np

        n = 0 if table is None else table.num_rows
        if n == 0:
            return
        zeros = np.zeros(n, dtype=np.int64)
        codes = [
            [zeros if c is None else c.of(_one_chunk(table.column(c.column.source))) for c in role]
            for role in self.coders
        ]
        self.classes.add(codes[0], codes[1], n)
        self.done += n
        if self.records is not None:
            self.records(self.done)


@contextlib.contextmanager
def _arrow_memory() -> Iterator[None]:
    """Arrow allocating from jemalloc (or the C library's malloc where pyarrow has no
    jemalloc) while counting: blocks are parsed and dropped one after another, on two
    threads, and mimalloc (Arrow's default here) keeps what they freed — about 30 MB more
    at the peak, for no speed."""
    import pyarrow as pa

    before = pa.default_memory_pool()
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # pragma: no cover - a pyarrow built without jemalloc
        pool = pa.system_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def _record_blocks(stream: IO[bytes], screen: _Screen) -> Iterator[bytes]:
    """The file in blocks of whole records (about ``BLOCK_BYTES`` each), screened. Memory
    holds one block (and a record cut by its end) at a time; a record longer than
    ``MAX_CARRY`` goes to the precise reader (Arrow refuses cells that long anyway)."""
    carry: list[bytes] = []
    carried = 0
    while True:
        block = stream.read(BLOCK_BYTES)
        end = screen.screen(block)
        if not block:
            if carry:
                yield b"".join(carry)
            return
        if end == 0:  # no record ends in this block: it goes on in the next
            carry.append(block)
            carried += len(block)
            if carried > MAX_CARRY:
                raise Unsuitable("a record longer than the carry")
            continue
        yield b"".join([*carry, block[:end]]) if carry else block[:end]
        carry = [block[end:]]
        carried = len(carry[0])


def _one_chunk(column: Any) -> pa.Array:
    """A table's column as one array (a table read from one buffer has one chunk)."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def _utf8(block: bytes) -> None:
    """Refuse a block that is not UTF-8 (Arrow checks only the columns it converts). A
    block of whole records never ends inside a character."""
    import numpy as np
    import pyarrow as pa

    if block.isascii():
        return
    offsets = pa.py_buffer(np.array([0, len(block)], dtype=np.int32).tobytes())
    text = pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(block)])
    try:
        text.cast(pa.string())  # validates, in C, without a copy
    except pa.ArrowInvalid:
        raise Unsuitable("not UTF-8") from None


def _after_header(block: bytes, header: list[str], delimiter: str) -> bytes:
    """The first block without its header line, which must be the header the precise
    reader read (blank lines before it, say, are the precise reader's to skip)."""
    end = block.find(b"\n")
    quotes = block.count(b'"', 0, max(end, 0))  # a running count: linear in the header
    while end >= 0 and quotes % 2:
        following = block.find(b"\n", end + 1)
        quotes += block.count(b'"', end, following if following >= 0 else len(block))
        end = following
    if end < 0:
        end = len(block) - 1
    line = block[: end + 1].decode("utf-8-sig")
    if "\r" in line.removesuffix("\r\n"):  # a lone CR ends a line: the precise reader's case
        raise Unsuitable("a carriage return in the header line")
    if next(csv.reader(io.StringIO(line, newline=""), delimiter=delimiter), None) != header:
        raise Unsuitable("another header")
    return block[end + 1 :]


def risk_columns(
    policy: Policy, schema: Mapping[str, Any], transformer: Transformer | None
) -> tuple[list[Column], list[Column]]:
    """How each quasi-identifier and sensitive attribute of ``policy`` is read: from the
    input field and through its treatment (``transformer``, the sender's side), or as
    delivered (no transformer)."""
    typed = RecordSchema(schema)

    def column(output_name: str) -> Column:
        treat: Callable[[Sequence[Any]], Sequence[Any]] = _same
        source = output_name
        reduction = None
        if transformer is not None:
            source, treat = transformer.measured(output_name)
            spec = transformer.contract.fields[source]
            if typed.keeps_strings(source):
                reduction = _reduction(spec)

        def values(cells: list[str]) -> Sequence[Any]:
            return treat(typed.coerce_column(source, cells))

        return Column(source, values, reduction)

    return (
        [column(n) for n in policy.quasi_identifiers],
        [column(n) for n in policy.sensitive],
    )


def _same(col: Sequence[Any]) -> Sequence[Any]:
    return col


_PC4_FORM = r"^[1-9][0-9]{3} ?[A-Z]{2}$"  # treatments._PC_FORM: cut to its four digits
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _reduction(spec: FieldSpec) -> Reduction | None:
    """The Arrow shortcut of a field's generalisation, for a column of strings: exact on the
    cells it covers (the written forms whose output :mod:`ketenx.treatments` gives without
    doubt), none for the rest. (Nothing here turns a Python value into an Arrow one: that
    would import pandas, when it is installed.)"""
    import pyarrow.compute as pc

    if spec.treatment != "generalise":
        return None
    to = spec.params.get("to")
    if to == "pc4":

        def pc4(cells: pa.Array) -> tuple[np.ndarray, Any]:
            form = pc.match_substring_regex(cells, _PC4_FORM)
            at = _numbers(pc.indices_nonzero(form))
            return at, pc.utf8_slice_codeunits(cells.filter(form), 0, 4)

        return Reduction(pc4, _same_keys)
    if to == "year":

        def year(cells: pa.Array) -> tuple[np.ndarray, Any]:
            at, y, _, _ = _iso_dates(cells)
            return at, y

        return Reduction(year, _same_keys)
    if to == "year-month":

        def year_month(cells: pa.Array) -> tuple[np.ndarray, Any]:
            at, y, m, _ = _iso_dates(cells)
            return at, y * 100 + m

        return Reduction(year_month, lambda keys: [f"{k // 100:04d}-{k % 100:02d}" for k in keys])
    if to == "age-band":
        reference = age_reference(spec)
        label = age_label(spec)

        def ages(cells: pa.Array) -> tuple[np.ndarray, Any]:
            at, y, m, d = _iso_dates(cells)
            later = (m > reference.month) | ((m == reference.month) & (d > reference.day))
            return at, reference.year - y - later

        return Reduction(ages, lambda keys: [label(k, 0) for k in keys])
    return None


def _same_keys(keys: list[Any]) -> list[Any]:
    return keys


#: Days of each month in a common year.
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _iso_dates(cells: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The positions of the cells that are a real calendar date written YYYY-MM-DD, in the
    years 1000 to 9999 (what :func:`datetime.date.fromisoformat` reads as that date, and
    what ``strftime`` writes with four digits), with their year, month and day."""
    import numpy as np
    import pyarrow.compute as pc

    form = pc.match_substring_regex(cells, _ISO_DATE)
    at = _numbers(pc.indices_nonzero(form))
    dates = cells.filter(form)
    y, m, d = (
        _numbers(pc.cast(pc.utf8_slice_codeunits(dates, a, b), "int64"))
        for a, b in ((0, 4), (5, 7), (8, 10))
    )
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    month_days = np.asarray(_MONTH_DAYS)[np.clip(m, 1, 12) - 1] + ((m == 2) & leap)
    real = (y >= 1000) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= month_days)
    return at[real], y[real], m[real], d[real]
