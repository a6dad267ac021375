"""The batches and the report of a check, shared by the checker and the readers that feed it.

A reader hands the checker a :class:`CsvBatch` (CSV and Parquet: columns, built lazily for
a batch the engine screened) or a :class:`JsonBatch` (JSON records); the checker fills one
:class:`FileReport` per file. :class:`BatchChecker` is what a reader may ask of the checker
(:class:`ketenx.records.check.Checker` is one), so the Parquet reader does not import the
checker that imports it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from .readers import LineMap
from .validation import Judgement, RecordSchema, Violation

DEFAULT_MAX_ERRORS = 1000


@dataclass
class FileReport:
    """What ``check`` found in one file. ``errors`` lists at most ``max_errors`` violations;
    ``error_counts`` counts all of them, by rule."""

    path: str
    records: int = 0
    invalid_records: int = 0
    errors: list[Violation] = field(default_factory=list)
    error_counts: Counter[str] = field(default_factory=Counter)
    max_errors: int = DEFAULT_MAX_ERRORS
    fatal: bool = False  # reading stopped early
    lines: LineMap | None = None  # where records start, for the reports that point at lines

    @property
    def valid(self) -> bool:
        return not self.error_counts

    @property
    def total_errors(self) -> int:
        return sum(self.error_counts.values())

    @property
    def truncated(self) -> bool:
        return self.total_errors > len(self.errors)

    def add(self, violation: Violation) -> None:
        self.error_counts[violation.rule] += 1
        if len(self.errors) < self.max_errors:
            if self.lines is not None and violation.record and violation.line is None:
                line = self.lines.line_of(violation.record)
                if line is not None:
                    violation = dataclasses.replace(violation, line=line)
            self.errors.append(violation)

    def wants_details(self) -> bool:
        return len(self.errors) < self.max_errors


ProgressCallback = Callable[[int], None]


class CsvBatch:
    """One batch of CSV records: where it starts, its size, the rows that broke a rule, and
    (built on first use for a batch the engine screened) the coerced columns and the cells
    as read."""

    def __init__(
        self,
        start: int,
        size: int,
        columns: dict[str, Sequence[Any]] | None = None,
        rejected: set[int] | None = None,
        cells: dict[str, Sequence[str]] | None = None,
    ) -> None:
        self.start = start  # records before this batch
        self.size = size
        self.rejected: set[int] = rejected if rejected is not None else set()
        self._columns = columns
        self._cells = cells if cells is not None else {}
        self._build: Callable[[], tuple[dict[str, Sequence[Any]], dict[str, Sequence[str]]]]
        self._build = lambda: ({}, {})

    @classmethod
    def lazy(
        cls,
        start: int,
        size: int,
        build: Callable[[], tuple[dict[str, Sequence[Any]], dict[str, Sequence[str]]]],
        rejected: set[int] | None = None,
    ) -> CsvBatch:
        batch = cls(start, size, rejected=rejected)
        batch._build = build
        return batch

    def columns_of(self, names: Sequence[str]) -> Mapping[str, Sequence[Any]]:
        """The columns ``names`` (all when none are named), built alone for a screened batch
        whose other columns no one asked for."""
        if self._columns is None and names and isinstance(self._build, partial):
            some: dict[str, Sequence[Any]] = self._build(names=names)[0]
            return some
        return self.columns

    def parts(
        self, names: Sequence[str]
    ) -> tuple[Mapping[str, Sequence[Any]], Mapping[str, Sequence[str]]]:
        """The coerced columns and the cells as read of ``names`` only (those the header
        has): a screened batch builds just those, once."""
        if self._columns is None and isinstance(self._build, partial):
            columns, cells = self._build(names=names)
            return columns, cells
        wanted = set(names)
        return (
            {k: v for k, v in self.columns.items() if k in wanted},
            {k: v for k, v in self.cells.items() if k in wanted},
        )

    def _ensure(self) -> None:
        if self._columns is None:
            self._columns, self._cells = self._build()

    @property
    def columns(self) -> dict[str, Sequence[Any]]:
        self._ensure()
        assert self._columns is not None
        return self._columns

    @property
    def cells(self) -> dict[str, Sequence[str]]:
        """The cells as read, by column name."""
        self._ensure()
        return self._cells


class JsonBatch:
    """One batch of JSON records: where it starts, its size, the rows that broke a rule, and
    the records (decoded on first use for a batch the engine screened)."""

    def __init__(
        self, start: int, size: int, records: list[Any] | None, rejected: set[int] | None = None
    ) -> None:
        self.start = start  # records before this batch
        self.size = size
        self.rejected: set[int] = rejected if rejected is not None else set()
        self._records = records
        self._decode: Callable[[], list[Any]] = list

    @classmethod
    def lazy(cls, start: int, size: int, decode: Callable[[], list[Any]]) -> JsonBatch:
        batch = cls(start, size, None)
        batch._decode = decode
        return batch

    @property
    def records(self) -> list[Any]:
        if self._records is None:
            self._records = self._decode()
        return self._records


class BatchChecker(Protocol):
    """What a reader of a typed source (:mod:`ketenx.records.engine.parquet`) asks of the
    checker: its schema and settings, the header check, the judge and the report."""

    schema: RecordSchema
    engine: bool
    normalise: Mapping[str, str]
    progress: ProgressCallback | None

    def check_header(
        self, header: Sequence[str], report: FileReport
    ) -> tuple[dict[str, int], bool]: ...

    def judge(self, columns: Mapping[str, Sequence[Any]], n: int) -> Judgement: ...

    def report_batch(
        self,
        report: FileReport,
        start: int,
        n: int,
        bad: Judgement,
        special: Mapping[int, Violation],
        record_at: Callable[[int], Any],
    ) -> None: ...


__all__ = [
    "DEFAULT_MAX_ERRORS",
    "BatchChecker",
    "CsvBatch",
    "FileReport",
    "JsonBatch",
    "ProgressCallback",
]
