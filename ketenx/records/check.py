"""``check``: validate a delivery against the contract's schema, one file at a time.

The result is a :class:`FileReport` that names record, field and rule for every violation
and never holds a value from the data. Reading and validating stream: a batch of rows at a
time, whatever the size of the file.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import IO, Any

from ..canonical import pointer
from .batches import DEFAULT_MAX_ERRORS, CsvBatch, FileReport, JsonBatch, ProgressCallback
from .names import name_token, safe_name
from .readers import (
    BATCH_ROWS,
    CsvReader,
    InputFormat,
    LineMap,
    Malformed,
    _Transcoded,
    json_array_batches,
    jsonl_batches,
)
from .validation import (
    MISSING,
    Judgement,
    RecordSchema,
    TypeHints,
    Violation,
    message_for,
    record_columns,
)
from .writers import unneutralise_column


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while records stream through.

    The hot path allocates millions of short-lived lists and tuples but no reference cycles,
    so reference counting frees everything; the collector would only rescan live batches
    (measured: ≈1.4× on a ``check`` run). It is restored afterwards, also on errors.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass
class Checker:
    """Checks files against one record schema."""

    schema: RecordSchema
    max_errors: int = DEFAULT_MAX_ERRORS
    allow_empty: bool = False
    progress: ProgressCallback | None = None
    unneutralise: bool = False  # a delivery: undo CSV formula neutralisation before checking
    # field → normalisation (docs/spec/pseudonyms.md §5) applied to its strings before they
    # are checked: `pseudonymise` checks a keyed value in the form that will be keyed.
    normalise: Mapping[str, str] = field(default_factory=dict)
    # Called with the columns of each batch read (the fields ``observed`` names; for JSON
    # only those): the recipient's privacy re-measurement
    # (:class:`ketenx.transform.gates.RiskMeter`).
    observe: Callable[[Mapping[str, Sequence[Any]], int], object] | None = None
    observed: Sequence[str] = ()
    # False: CSV is read and judged by the precise path only (the differential tests'
    # reference for the columnar engine, ketenx.records.engine).
    engine: bool = True

    @classmethod
    def for_schema(cls, schema: Mapping[str, Any], **kwargs: Any) -> Checker:
        return cls(RecordSchema(schema), **kwargs)

    def check(
        self,
        stream: IO[bytes],
        input_format: InputFormat,
        *,
        path: str = "-",
        delimiter: str | None = None,
    ) -> FileReport:
        """Check one file; never raises for bad data (that is what the report is for)."""
        report = FileReport(path=path, max_errors=self.max_errors, lines=LineMap())
        try:
            with paused_gc():
                observe = self.observe
                if input_format == "csv":
                    for batch in self.iter_csv(stream, report, delimiter=delimiter):
                        if observe is not None:
                            observe(batch.columns_of(self.observed), batch.size)
                elif input_format == "parquet":
                    for batch in self.iter_parquet(stream, report):
                        if observe is not None:
                            observe(batch.columns_of(self.observed), batch.size)
                else:
                    for jbatch in self.iter_json(stream, report, input_format):
                        if observe is not None:
                            observe(record_columns(jbatch.records, self.observed)[0], jbatch.size)
        except Malformed as problem:
            report.fatal = True
            report.add(Violation(problem.record, problem.field, problem.rule, problem.message))
        self.finish(report)
        return report

    def finish(self, report: FileReport) -> None:
        if report.records == 0 and not report.fatal and not self.allow_empty:
            report.add(
                Violation(
                    0,
                    "",
                    "no-records",
                    "the file has no records (use --allow-empty "
                    "when an empty delivery is expected)",
                )
            )

    # --- CSV ------------------------------------------------------------------------------

    def iter_csv(
        self,
        stream: IO[bytes],
        report: FileReport,
        *,
        delimiter: str | None = None,
        precise: bool | None = None,
    ) -> Iterator[CsvBatch]:
        """Validate a CSV file batch by batch, yielding the coerced, judged batches.

        Batches are read by pyarrow and screened by the columnar engine
        (:mod:`ketenx.records.engine`); a batch with a broken rule, and any part of the file that
        pyarrow cannot be trusted with, is read and judged by the precise reader and the
        column plan or reference, so the report is the same as with ``precise=True`` (the
        precise path throughout, the default when ``engine`` is off; the differential test
        compares the two).

        Raises :class:`Malformed` when the file cannot be read further.
        """
        if precise is None:
            precise = not self.engine
        if precise or isinstance(stream, _Transcoded):
            yield from self._iter_csv_precise(stream, report, delimiter)
            return
        from .engine.csvsource import CsvSource

        source = CsvSource(stream, delimiter=delimiter)
        if source.fallback is not None or source.header is None:
            yield from self._iter_csv_precise(source.fallback or stream, report, delimiter)
            return
        header = source.header
        positions, header_ok = self.check_header(header, report)
        if not header_ok:
            report.fatal = True
            return
        layout = _Layout(self.schema, header, positions)
        record = 0
        misses = 0  # pieces in a row that the screen could not pass
        skip = 0  # pieces to judge precisely without screening them first
        for piece in source.pieces():
            if piece.rest:
                assert piece.stream is not None
                reader = CsvReader(
                    piece.stream,
                    lines=report.lines,
                    resume=source.resume(record, piece.lines_before),
                )
                yield from self._csv_batches(reader, report, layout)
                return
            fast = None
            if piece.table is not None and skip and report.wants_details():
                skip -= 1
            elif piece.table is not None:
                fast = self._screened(piece.table, record, layout, report)
                misses = 0 if fast is not None else misses + 1
                if misses >= 2:  # invalid data: judge precisely, try the screen again
                    skip = 1 << min(misses, 6)  # after 4, 8, … 64 pieces
            if fast is not None:
                for batch in fast:
                    record += batch.size
                    report.records += batch.size
                    if self.progress is not None:
                        self.progress(record)
                    yield batch
                continue
            if piece.table is not None and piece.one_line_records():
                yield from self._table_parts(
                    piece.table, record, piece.lines_before + 1, report, layout
                )
                record += piece.table.num_rows
                continue
            reader = CsvReader(
                io.BytesIO(piece.data),
                lines=report.lines,
                resume=source.resume(record, piece.lines_before),
                tail=source.following,  # a break's rule looks past the piece's end
            )
            yield from self._csv_batches(reader, report, layout)
            record = reader.records

    def _iter_csv_precise(
        self, stream: IO[bytes], report: FileReport, delimiter: str | None
    ) -> Iterator[CsvBatch]:
        reader = CsvReader(stream, delimiter=delimiter, lines=report.lines)
        if reader.header is None:
            return
        positions, header_ok = self.check_header(reader.header, report)
        if not header_ok:
            report.fatal = True
            return
        yield from self._csv_batches(reader, report, _Layout(self.schema, reader.header, positions))

    def _screened(
        self, table: Any, start: int, layout: _Layout, report: FileReport
    ) -> list[CsvBatch] | None:
        """The batches (of at most ``BATCH_ROWS``) of an Arrow table when the engine finds
        every row valid, or when the report's list of errors is full and the engine counts
        the errors by rule as the precise path would (:mod:`ketenx.records.engine.attribution`;
        the report is updated here: the batches carry their rejected rows); else None."""
        from .engine import plan_for

        plan = plan_for(self.schema)
        if plan.precise is not None:
            return None
        import pyarrow.compute as pc

        n = table.num_rows
        from .engine.arrays import whole

        arrays = {name: whole(table.column(pos)) for name, pos in layout.positions.items()}
        if self.unneutralise:
            for name in layout.string_names:
                if pc.any(pc.starts_with(arrays[name], "'")).as_py():
                    return None  # formula-neutralised cells: the precise path undoes them
        normalised: dict[str, list[Any]] = {}
        if self.normalise:
            from .engine.arrays import strings

            for name, how in self.normalise.items():
                if name in arrays and name in layout.string_names and how != "none":
                    cells = arrays[name].to_pylist()
                    values = _normalise_cells(cells, how)
                    if values is None:
                        return None
                    normalised[name] = values
                    arrays[name] = strings(values)
        if not report.wants_details():  # the list is full: count the errors by rule
            from .engine.rootcount import counter_for

            count = counter_for(self.schema, plan)
            if count is not None:
                counted = count(arrays, n)
                report.invalid_records += int(counted.bad.sum())
                report.error_counts.update(counted.counts)
                return self._lazy_batches(table, start, layout, normalised, counted.bad)
        bad = plan.screen(arrays, n)
        if bad is None or bad.any():
            return None
        return self._lazy_batches(table, start, layout, normalised, None)

    def _lazy_batches(
        self,
        table: Any,
        start: int,
        layout: _Layout,
        normalised: Mapping[str, list[Any]],
        bad: Any,
    ) -> list[CsvBatch]:
        """A judged table as batches of at most ``BATCH_ROWS`` whose columns are built on
        first use; ``bad``: the mask of rejected rows (None: none)."""
        import numpy as np

        n = table.num_rows
        return [
            CsvBatch.lazy(
                start + at,
                min(BATCH_ROWS, n - at),
                partial(
                    self._build,
                    table.slice(at, BATCH_ROWS),
                    layout,
                    {k: v[at : at + BATCH_ROWS] for k, v in normalised.items()},
                ),
                rejected=None
                if bad is None
                else set(np.flatnonzero(bad[at : at + BATCH_ROWS]).tolist()),
            )
            for at in range(0, n, BATCH_ROWS)
        ]

    def _build(
        self,
        table: Any,
        layout: _Layout,
        normalised: Mapping[str, list[Any]],
        names: Sequence[str] | None = None,
    ) -> tuple[dict[str, Sequence[Any]], dict[str, Sequence[str]]]:
        """The coerced columns and the cells of a screened batch (of the ``names`` given, or
        all), as the precise path makes them."""
        schema = self.schema
        raw = {
            name: table.column(pos).to_pylist()
            for name, pos in layout.positions.items()
            if names is None or name in names
        }
        cells = raw
        if self.unneutralise:
            cells = {
                name: unneutralise_column(c) if name in layout.string_names else c
                for name, c in raw.items()
            }
        columns: dict[str, Sequence[Any]] = {}
        for name, col in cells.items():
            if name in normalised:
                empty = None if schema.allows_null(name) else MISSING
                columns[name] = [
                    empty if c == "" else v for c, v in zip(col, normalised[name], strict=True)
                ]
            else:
                columns[name] = schema.coerce_column(name, col)
        return columns, raw

    def _csv_batches(
        self, reader: CsvReader, report: FileReport, layout: _Layout
    ) -> Iterator[CsvBatch]:
        """The precise path: rows of ``reader``, coerced and judged batch by batch."""
        width = len(layout.header)
        record = reader.records
        for rows in reader.batches():
            start = record
            n = len(rows)
            record += n
            special: dict[int, Violation] = {}
            if len(set(map(len, rows))) != 1 or len(rows[0]) != width:
                for i, r in enumerate(rows):
                    if len(r) != width:
                        rule = "row-length"
                        special[i] = Violation(start + i + 1, "", rule, message_for(rule, {}))
                rows = [[""] * width if i in special else r for i, r in enumerate(rows)]
            cells: list[Sequence[str]] = list(zip(*rows, strict=True))
            yield self._judged(cells, start, n, special, report, layout)

    def _table_parts(
        self, table: Any, start: int, line: int, report: FileReport, layout: _Layout
    ) -> Iterator[CsvBatch]:
        """A piece of one-line records with a broken rule: judged precisely in parts of 128,
        256, … rows while the report lists errors, and once its list is full the rest of the
        piece counted by the engine (:meth:`_screened`), so that no more of its records are
        explained one by one than the list needs."""
        n = table.num_rows
        at, size, count = 0, 128, True
        while at < n:
            if count and not report.wants_details():
                rest = self._screened(table.slice(at), start + at, layout, report)
                count = False
                if rest is not None:
                    for batch in rest:
                        report.records += batch.size
                        if self.progress is not None:
                            self.progress(batch.start + batch.size)
                        yield batch
                    return
            part = table.slice(at, size)
            yield from self._table_batches(part, start + at, line + at, report, layout)
            at += part.num_rows
            size = min(size * 2, BATCH_ROWS)

    def _table_batches(
        self, table: Any, start: int, line: int, report: FileReport, layout: _Layout
    ) -> Iterator[CsvBatch]:
        """A piece pyarrow read whose records are one line each, starting on ``line``: judged
        as the precise path judges them (the same rows), without parsing it again."""
        n = table.num_rows
        if report.lines is not None:
            report.lines.add(start + 1, line, n, None)
        wanted = set(layout.positions.values())
        for at in range(0, n, BATCH_ROWS):
            part = table.slice(at, BATCH_ROWS)
            cells: list[Sequence[str]] = [
                part.column(i).to_pylist() if i in wanted else [] for i in range(part.num_columns)
            ]
            yield self._judged(cells, start + at, part.num_rows, {}, report, layout)

    def _judged(
        self,
        cells: list[Sequence[str]],
        start: int,
        n: int,
        special: dict[int, Violation],
        report: FileReport,
        layout: _Layout,
    ) -> CsvBatch:
        """One batch of cells (by column position) coerced, judged and reported."""
        schema = self.schema
        positions = layout.positions
        string_positions = layout.string_positions
        types: TypeHints = {}
        if self.unneutralise:
            cells = [
                unneutralise_column(c) if i in string_positions else c for i, c in enumerate(cells)
            ]
        columns = {
            name: schema.coerce_column(name, cells[pos], types) for name, pos in positions.items()
        }
        if self.normalise:
            from .normalise import normalise_texts

            for name, how in self.normalise.items():
                if name in columns:
                    columns[name] = normalise_texts(columns[name], how)
        bad = self.judge(columns, n, types)
        for i in special:
            bad.pop(i, None)
        self.report_batch(report, start, n, bad, special, partial(schema.row_record, columns))
        if self.progress is not None:
            self.progress(start + n)
        raw = {name: cells[pos] for name, pos in positions.items()}
        return CsvBatch(
            start=start, size=n, columns=columns, rejected=set(bad) | set(special), cells=raw
        )

    def check_header(
        self, header: Sequence[str], report: FileReport
    ) -> tuple[dict[str, int], bool]:
        """Header problems, reported as record 0; the columns to read; whether rows can be read.

        When most names of the first row are not columns of the schema, or half of them are
        and another cell cannot be a column name (:func:`~ketenx.records.names.safe_name`), the
        first row is most likely data (a file without a header, or a header glued to a row):
        it is reported as one `header` error that names no cell. An unknown or repeated
        column is named only when the contract names it or its name is safe; otherwise by
        its position (``/<column 4>``).
        """
        known = set(self.schema.property_names)
        names = self.schema.reference.names  # names the contract has: always safe to quote
        # A cell that differs from a column of the contract only in letter case or surrounding
        # white space ("BSN ", "Geboortedatum"): told as such, by the contract's name.
        folded = {name.casefold(): name for name in self.schema.property_names}
        near = {
            i: folded[cell.strip().casefold()]
            for i, cell in enumerate(header)
            if cell not in known and cell.strip().casefold() in folded
        }
        matching = sum(1 for name in header if name in known) + len(near)
        unsafe = sum(
            1
            for i, name in enumerate(header)
            if name not in names and i not in near and not safe_name(name)
        )
        if header and (matching * 2 < len(header) or (matching * 2 == len(header) and unsafe)):
            report.add(
                Violation(
                    0,
                    "",
                    "header",
                    f"the first row does not name the columns: {matching} of its {len(header)} "
                    "cells are column names of the contract's schema (is the header missing?)",
                )
            )
            return {}, False
        positions: dict[str, int] = {}
        seen: set[str] = set()
        for i, name in enumerate(header):
            field_ptr = pointer(name_token(name, i + 1, kind="column", known=names))
            if name in seen:
                report.add(
                    Violation(
                        0,
                        field_ptr,
                        "duplicate-column",
                        f"column {i + 1} repeats the name of an earlier column",
                    )
                )
            elif i in near:
                report.add(
                    Violation(
                        0,
                        pointer(near[i]),
                        "unknown-column",
                        f"column {i + 1} differs from the contract's column `{near[i]}` only in "
                        "letter case or surrounding spaces: rename it in the export",
                    )
                )
            elif name not in known:
                report.add(
                    Violation(
                        0,
                        field_ptr,
                        "unknown-column",
                        f"column {i + 1} is not in the contract's schema",
                    )
                )
            else:
                positions[name] = i
            seen.add(name)
        ok = True
        for name in self.schema.required_names:
            if name not in positions:
                ok = False
                report.add(
                    Violation(
                        0, pointer(name), "required", "required column is missing from the header"
                    )
                )
        return positions, ok

    # --- Parquet ----------------------------------------------------------------------------

    def iter_parquet(self, stream: IO[bytes], report: FileReport) -> Iterator[CsvBatch]:
        """Validate a Parquet file batch by batch (:mod:`ketenx.records.engine.parquet`)."""
        from .engine.parquet import iter_parquet

        return iter_parquet(self, stream, report)

    # --- JSON Lines and JSON arrays -------------------------------------------------------

    def iter_json(
        self, stream: IO[bytes], report: FileReport, input_format: InputFormat
    ) -> Iterator[JsonBatch]:
        """Validate a JSON Lines file or JSON array batch by batch. JSON Lines of a flat
        schema are screened by the columnar engine (:mod:`ketenx.records.engine.jsonl`)."""
        transcoded = isinstance(stream, _Transcoded)  # another encoding: the precise reader
        if input_format == "jsonl" and self.engine and not self.normalise and not transcoded:
            from .engine import plan_for
            from .engine.jsonl import iter_jsonl, kinds_for

            plan = plan_for(self.schema)
            kinds = kinds_for(self, plan)
            if kinds is not None:
                yield from iter_jsonl(self, stream, report, kinds, plan)
                return
        read = jsonl_batches if input_format == "jsonl" else json_array_batches
        yield from self.json_batches(read(stream, lines=report.lines), report, 0)

    def json_batches(
        self, batches: Iterator[list[Any]], report: FileReport, record: int
    ) -> Iterator[JsonBatch]:
        """The precise path: batches of JSON records (or :class:`Malformed` items) judged and
        reported, the first after ``record`` records."""
        names = self.schema.property_names
        reference = self.schema.reference
        for items in batches:
            start = record
            n = len(items)
            record += n
            special: dict[int, Violation] = {}
            for i, item in enumerate(items):
                if isinstance(item, Malformed):
                    special[i] = Violation(start + i + 1, item.field, item.rule, item.message)
            records: list[Any] = [None if i in special else item for i, item in enumerate(items)]
            if self.normalise:
                _normalise_records(records, self.normalise)
            columns, flat = record_columns(records, names)
            if flat and not special:
                bad = self.judge(columns, n)
            else:
                bad = {
                    i: [(v.field, v.rule) for v in reference.explain(rec, start + i + 1)]
                    for i, rec in enumerate(records)
                    if i not in special and not reference.is_valid(rec)
                }
            self.report_batch(report, start, n, bad, special, records.__getitem__)
            if self.progress is not None:
                self.progress(record)
            yield JsonBatch(start=start, size=n, records=records, rejected=set(bad) | set(special))

    # --- shared ------------------------------------------------------------------------------

    def judge(
        self, columns: Mapping[str, Sequence[Any]], n: int, types: TypeHints | None = None
    ) -> Judgement:
        plan: Any = self.schema.plan
        if plan is None:  # nested fields: a native validator each (ketenx.records.engine.native)
            from .engine.native import record_plan_for

            plan = record_plan_for(self.schema)
        if plan is not None:
            judged: Judgement = plan.check_columns(columns, types)
            return judged
        reference = self.schema.reference
        out: Judgement = {}
        for i in range(n):
            rec = RecordSchema.row_record(columns, i)
            if not reference.is_valid(rec):
                out[i] = [(v.field, v.rule) for v in reference.explain(rec, i + 1)]
        return out

    def report_batch(
        self,
        report: FileReport,
        start: int,
        n: int,
        bad: Judgement,
        special: Mapping[int, Violation],
        record_at: Callable[[int], Any],
    ) -> None:
        report.records += n
        if not bad and not special:
            return
        report.invalid_records += len(bad) + len(special)
        reference = self.schema.reference
        rows = sorted(set(bad) | set(special))
        for k, i in enumerate(rows):
            if not report.wants_details():
                # The list is full: only count what is left, by rule.
                report.error_counts.update(
                    rule for j in rows[k:] if j not in special for _, rule in bad[j]
                )
                report.error_counts.update(special[j].rule for j in rows[k:] if j in special)
                return
            if i in special:
                report.add(special[i])
                continue
            record_no = start + i + 1
            # The reference explains every record whose errors are listed.
            explained = reference.explain(record_at(i), record_no)
            if explained:
                for v in explained:
                    report.add(v)
                continue
            for field_ptr, rule in bad[i]:
                report.add(Violation(record_no, field_ptr, rule, self._message(field_ptr, rule)))

    def _message(self, field_ptr: str, rule: str) -> str:
        plan = self.schema.plan
        if plan is not None:
            for prop in plan.properties.values():
                if prop.field == field_ptr:
                    return message_for(rule, prop.schema)
        return message_for(rule, {})


@dataclass
class _Layout:
    """Where the schema's columns are in a file's header."""

    schema: RecordSchema
    header: Sequence[str]
    positions: dict[str, int]

    def __post_init__(self) -> None:
        self.string_names = {n for n in self.positions if self.schema.keeps_strings(n)}
        self.string_positions = {self.positions[n] for n in self.string_names}


__all__ = ["MISSING", "Checker"]


def _normalise_cells(cells: list[str], how: str) -> list[str] | None:
    """Non-empty cells normalised (docs/spec/pseudonyms.md §5), empty ones kept; None when
    normalising empties a cell (the precise path tells such a value from an empty cell)."""
    from .normalise import normalise_many

    if "" not in cells:
        out = normalise_many(cells, how)
    else:
        index = [i for i, c in enumerate(cells) if c]
        out = list(cells)
        for i, v in zip(index, normalise_many([cells[i] for i in index], how), strict=True):
            out[i] = v
    if "" in out and out.count("") != cells.count(""):
        return None
    return out


def _normalise_records(records: list[Any], normalise: Mapping[str, str]) -> None:
    """Normalise, in place, the string values of the named fields of JSON records."""
    from .normalise import normalise as normalise_one

    for rec in records:
        if type(rec) is dict:
            for name, how in normalise.items():
                value = rec.get(name)
                if type(value) is str:
                    rec[name] = normalise_one(value, how)
