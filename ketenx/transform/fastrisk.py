"""Equivalence classes of a CSV file counted on Apache Arrow: the fast path of ``ketenx risk``.

The figures are the same as the precise path's
(:func:`ketenx.transform.privacy_reports.read_columns`, the contract's treatments,
:class:`ketenx.transform.risk.RiskCounter`), by construction:

* the file is read by the columnar engine's reader (:class:`ketenx.records.engine.csvsource.
  CsvSource`, the one `check` uses): pieces of whole records, screened, parsed by pyarrow
  with every column typed as a string (a postcode or BSN keeps its leading zero), only the
  measured columns converted;
* each piece's column is dictionary-encoded; its **distinct** cells (not its rows) go
  through the same Python code as the precise path — the schema's coercion, the
  contract's treatment, the counter's coding of output values, in order of first
  appearance — remembered across pieces; the common written forms of ``pc4``, ``year``,
  ``year-month`` and ``age-band`` are first cut in Arrow and numpy to the few keys they
  generalise to;
* each record's class is the combination of its columns' codes packed into a 64-bit key,
  counted with numpy by sorting, and handed to the counter in a layout it is told of, so
  :func:`ketenx.transform.risk.assess` sees exactly what the precise path would have given it.

Whatever the reader leaves to the precise reader (a piece pyarrow cannot be trusted with:
a NUL byte, bad UTF-8, a ragged or white-space row, an over-long cell, quoting that is not
plain, a byte order mark at a piece's start, a header pyarrow would read otherwise) raises
:class:`Unsuitable`, and the caller counts the file again on the precise path, which then
names the record and the rule. Nothing of pyarrow's own messages (they quote the row) is
ever shown.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from ..records.engine.arrays import bools, integers, whole
from ..records.engine.formats import calendar_days
from ..records.validation import RecordSchema
from .risk import Policy, RiskCounter
from .treatments import age_label, age_reference

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from ..contract.model import FieldSpec
    from .transformer import Transformer

#: Distinct cells remembered per column before the memory is cleared (memory stays flat).
MEMO_LIMIT = 1 << 20
#: The size the reader cuts pieces at for counting (larger than `check`'s: a piece's cost
#: here is mostly per distinct cell, and 1 MiB pieces are as fast as any, measured).
PIECE_BYTES = 1 << 20


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
        result: np.ndarray = codes[integers(encoded.indices)]
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
                where = integers(encoded.indices)
                first = np.unique(where, return_index=True)[1]
            groups.append(_Group(at[first], items, self.reduced, reduction.output, at, where))
        if at.size < n:
            rest = np.ones(n, dtype=bool)
            rest[at] = False
            plain = np.flatnonzero(rest)
            items = cells.to_pylist() if at.size == 0 else cells.filter(bools(rest)).to_pylist()
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
    the precise path must count the file instead (the counter is then to be discarded).

    The file is read by the columnar engine's reader (:class:`ketenx.records.engine.csvsource.
    CsvSource`: pieces of whole records, screened, parsed by pyarrow); a piece it leaves to
    the precise reader sends the whole file there."""
    from ..records.engine.csvsource import CsvSource
    from ..storage.fileio import open_input

    with open_input(path) as raw:
        wanted = {c.source for c in (*quasi, *sensitive)}
        source = CsvSource(
            wrap(raw),
            delimiter=delimiter,
            columns=lambda header: (i for i, name in enumerate(header) if name in wanted),
            piece_bytes=PIECE_BYTES,
        )
        if source.fallback is not None or source.header is None:
            raise Unsuitable("the engine's reader leaves the file to the precise reader")
        counting = _Counting(counter, quasi, sensitive, source.header, records)
        # The next piece is read and parsed (by pyarrow, without the GIL) while one is counted.
        for piece in _read_ahead(source.pieces()):
            if piece.table is None:
                raise Unsuitable("a piece for the precise reader")
            counting.count(piece.table)
    counting.classes.into(counter)


def _read_ahead(pieces: Iterator[Any]) -> Iterator[Any]:
    """``pieces``, the next one made on a helper thread while the caller works on one."""
    with ThreadPoolExecutor(1) as ahead:
        future = ahead.submit(next, pieces, None)
        while True:
            piece = future.result()
            if piece is None:
                return
            future = ahead.submit(next, pieces, None)
            yield piece


class _Counting:
    """How the pieces of one file are counted, one at a time."""

    def __init__(
        self,
        counter: RiskCounter,
        quasi: Sequence[Column],
        sensitive: Sequence[Column],
        header: list[str],
        records: Callable[[int], object] | None,
    ) -> None:
        # The engine's tables name columns by position (c0, c1, …): the first column of a
        # name, as the precise reader picks it.
        position: dict[str, str] = {}
        for i, name in enumerate(header):
            position.setdefault(name, f"c{i}")
        tables = (counter._codes, counter._scodes)
        self.coders = [
            [
                (_Codes(counter, c, tables[role], j), position[c.source])
                if c.source in position
                else None
                for j, c in enumerate(cols)
            ]
            for role, cols in enumerate((quasi, sensitive))
        ]
        self.classes = _Classes(len(quasi), len(sensitive))
        self.records = records
        self.done = 0

    def count(self, table: Any) -> None:
        import numpy as np

        n = table.num_rows
        if n == 0:
            return
        zeros = np.zeros(n, dtype=np.int64)
        codes = [
            [zeros if c is None else c[0].of(whole(table.column(c[1]))) for c in role]
            for role in self.coders
        ]
        self.classes.add(codes[0], codes[1], n)
        self.done += n
        if self.records is not None:
            self.records(self.done)


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
    cells it covers (the written forms whose output :mod:`ketenx.transform.treatments` gives without
    doubt), none for the rest. (Nothing here turns a Python value into an Arrow one: that
    would import pandas, when it is installed.)"""
    import pyarrow.compute as pc

    if spec.treatment != "generalise":
        return None
    to = spec.params.get("to")
    if to == "pc4":

        def pc4(cells: pa.Array) -> tuple[np.ndarray, Any]:
            form = pc.match_substring_regex(cells, _PC4_FORM)
            at = integers(pc.indices_nonzero(form))
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


def _iso_dates(cells: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The positions of the cells that are a real calendar date written YYYY-MM-DD, in the
    years 1000 to 9999 (what :func:`datetime.date.fromisoformat` reads as that date, and
    what ``strftime`` writes with four digits), with their year, month and day."""
    import pyarrow.compute as pc

    form = pc.match_substring_regex(cells, _ISO_DATE)
    at = integers(pc.indices_nonzero(form))
    dates = cells.filter(form)
    y, m, d = (
        integers(pc.cast(pc.utf8_slice_codeunits(dates, a, b), "int64"))
        for a, b in ((0, 4), (5, 7), (8, 10))
    )
    real = (y >= 1000) & calendar_days(y, m, d)
    return at[real], y[real], m[real], d[real]
