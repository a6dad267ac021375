"""check → treat → check the output → write, in one streaming pass.

:class:`Transformer` applies the contract's treatments to a batch of columns.
:func:`pseudonymise_stream` runs the whole pass over one input stream: every record is
checked against the contract's input schema (fail closed: after the first rejected record
nothing more is treated or written, and the caller discards the output), treated, checked
again against the output schema, and written while its bytes are hashed.

Pure apart from the streams it is handed: no clock, environment or randomness (the
per-delivery nonce comes from the caller).
"""

from __future__ import annotations

import collections
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..contract.model import Contract
from ..errors import RejectedError, UsageError
from ..progress import Progress, counted
from ..records.batches import FileReport
from ..records.check import Checker, paused_gc
from ..records.parquetwriter import make_writer
from ..records.readers import InputFormat, Malformed, decoded
from ..records.reports import count_of, rejection
from ..records.validation import (
    MISSING,
    RecordSchema,
    Violation,
    declared_types,
    message_for,
    record_columns,
)
from ..records.writers import HashingReader, HashingWriter, OutputFormat, RecordWriter
from .gates import PrivacyGate, PrivacyOutcome
from .privacy_reports import failure_text
from .transformer import CSV_TYPES, SAFE_OUTPUT, Keyring, Staged, Transformer, output_schema
from .treatments import TreatmentError
from .workers import MAX_HELPERS, KeyedHelpers, can_fork, run_tasks


@dataclass
class _Batch:
    """A staged batch on its way to the writer."""

    start: int  # records before it
    n: int
    staged: Staged
    keep: list[int] | None  # the input rows it holds, when invalid ones were left out
    raw: Mapping[str, Sequence[str]] | None  # CSV cells as read, for kept columns
    ticket: int | None = None  # the helper computing its keyed columns
    keyed: list[list[str]] | None = None  # their results, once collected


@dataclass
class PassResult:
    """What one streaming pass did: counts, the output's digest and the input's keyed
    fingerprint — never a value, and nothing unkeyed computed from the input."""

    report: FileReport  # the input check
    output_report: FileReport  # the output-side check
    records_in: int = 0
    records_out: int = 0
    input_fingerprint: str | None = None  # kx1f_…; None without a keyring
    output_digest: str = ""
    output_bytes: int = 0
    rejected: bool = False
    checked: bool = True
    privacy: PrivacyOutcome | None = None  # the privacy gates' verdict (None: not reached)


def pseudonymise_stream(
    source: IO[bytes],
    input_format: InputFormat,
    sink: IO[bytes],
    output_format: OutputFormat,
    contract: Contract,
    keyring: Keyring | None,
    *,
    path: str = "-",
    delimiter: str | None = None,
    skip_check: bool = False,
    skip_risk: bool = False,
    allow_empty: bool = False,
    max_errors: int = 20,
    jobs: int = 1,
    encoding: str | None = None,
    progress: Progress | None = None,
    spill_dir: Path | None = None,
) -> PassResult:
    """Check, treat, check the output, measure it against the privacy gates and write, in
    one pass over the input. Returns the counts and digests; ``result.rejected`` tells
    whether the caller must discard the output.

    The privacy gates (:mod:`ketenx.transform.gates`) count the output's equivalence classes
    and scan its kept string fields; when the contract allows suppression, the output is
    spilled into anonymous temporary files in ``spill_dir`` and copied without the
    suppressed records.

    ``jobs`` > 1 runs the keyed operations in ``jobs - 1`` forked helper processes
    (:mod:`ketenx.transform.workers`), from the second batch on; the output is the same.
    """
    transformer = Transformer(contract, keyring)
    out = _OutputCheck(contract, transformer, input_format, output_format)
    checker = Checker(RecordSchema(contract.schema), max_errors=max_errors, allow_empty=allow_empty)
    # A keyed field is checked in the form it is keyed in: " 12345672 " → "012345672".
    checker.normalise = {c.source: c.normalise for c in transformer.columns if c.normalise}
    # The input is personal data: only a keyed fingerprint of it is kept, never a plain digest
    # or its size (docs/spec/delivery.md §1).
    fingerprint = keyring.fingerprinter() if keyring is not None else None
    hashed_in = HashingReader(counted(source, progress), fingerprint or _Discard())
    hashed_out = HashingWriter(sink)
    buffered_in = io.BufferedReader(hashed_in, 1 << 20)
    reader_in = decoded(buffered_in, encoding)  # the fingerprint is of the bytes as given
    gate = PrivacyGate(contract, skip_risk=skip_risk, spill_dir=spill_dir)
    writer = make_writer(
        gate.spill() or io.BufferedWriter(hashed_out, 1 << 20),
        output_format,
        transformer.names,
        out.string_columns,
        out.schema.schema,
    )
    report = FileReport(path=path, max_errors=max_errors)
    result = PassResult(
        report=report,
        output_report=FileReport(path="<output>", max_errors=max_errors),
        checked=not skip_check,
    )
    workers = min(jobs - 1, MAX_HELPERS) if jobs > 1 and transformer.keyed and can_fork() else 0
    run = _Pass(transformer, keyring, out, gate, writer, result, workers, skip_check, progress)
    try:
        with paused_gc():
            if input_format == "csv":
                needed = [c.source for c in transformer.columns]  # dropped fields: not built
                for batch in checker.iter_csv(reader_in, report, delimiter=delimiter):
                    if run.refuses(batch.rejected):  # nothing more is treated: nothing built
                        run.emit(batch.start, {}, batch.size, batch.rejected)
                        continue
                    columns, cells = batch.parts(needed)
                    run.emit(batch.start, columns, batch.size, batch.rejected, cells)
            elif input_format == "parquet":  # read from the file (it seeks); hashed below
                for batch in checker.iter_parquet(source, report):
                    run.emit(batch.start, batch.columns, batch.size, batch.rejected)
            else:
                names = list(checker.schema.property_names)
                for jbatch in checker.iter_json(reader_in, report, input_format):
                    columns, _ = record_columns(jbatch.records, names)
                    run.emit(jbatch.start, columns, jbatch.size, jbatch.rejected)
            run.drain()
    except Malformed as problem:
        report.fatal = True
        report.add(Violation(problem.record, "", problem.rule, problem.message))
        result.rejected = True
    finally:
        run.close()
    checker.finish(report)
    if (not report.valid and not skip_check) or report.fatal:
        result.rejected = True  # a file that cannot be read to its end is never passed on
    if input_format == "parquet":
        source.seek(0)  # the reader seeked about the file: fingerprint it from its start
    while buffered_in.read(1 << 20):  # fingerprint whatever the reader left unread
        pass
    writer.close()
    _finish_gate(gate, result, hashed_out, output_format)
    result.records_in = report.records
    if fingerprint is not None:
        from .pseudonym import fingerprint_of

        result.input_fingerprint = fingerprint_of(fingerprint)
    result.output_digest = hashed_out.digest()
    result.output_bytes = hashed_out.size
    return result


def _finish_gate(
    gate: PrivacyGate, result: PassResult, sink: HashingWriter, output_format: OutputFormat
) -> None:
    """The gates' verdict; with suppression, the spilled output copied without the records
    of the classes that go."""
    try:
        if not result.rejected:
            result.privacy = gate.finish()
            if result.privacy.failed:
                result.rejected = True
            else:
                gate.copy(sink, output_format)
                result.records_out -= result.privacy.suppressed
    finally:
        gate.close()


class _OutputCheck:
    """The delivered record's schema, and how a treated batch is checked against it as the
    recipient will read it back."""

    def __init__(
        self,
        contract: Contract,
        transformer: Transformer,
        input_format: InputFormat,
        output_format: OutputFormat,
    ) -> None:
        schema = RecordSchema(output_schema(contract))
        self.schema = schema
        self.props = schema.schema["properties"]
        self.csv = output_format == "csv"
        if self.csv:
            refuse_csv_for_structures(schema.schema)
        # What an empty CSV cell reads back as, per column: null where the type allows it.
        self.empty_cells = {
            name: None if "null" in _types(prop) else MISSING for name, prop in self.props.items()
        }
        # Columns whose cells could start like a formula: strings that ketenx did not make
        # itself (pseudonyms, ciphertexts and generalisations never start with = + - @ TAB CR).
        made_safe = {c.name for c in transformer.columns if c.treatment in SAFE_OUTPUT}
        self.string_columns = frozenset(
            name
            for name, prop in self.props.items()
            if "string" in _types(prop) and name not in made_safe
        )
        # CSV to CSV: kept columns are written as their cells were read (and checked).
        self.passthrough = (
            [(c.source, c.name) for c in transformer.columns if c.treatment == "keep"]
            if input_format == "csv" and self.csv
            else []
        )

    def seen(self, treated: dict[str, Sequence[Any]]) -> Mapping[str, Sequence[Any]]:
        """What the recipient reads back: in CSV an empty string is an empty cell, which
        reads back as null or absent."""
        return _as_csv_reads(treated, self.empty_cells) if self.csv else treated

    def problems(self, seen: Mapping[str, Sequence[Any]], n: int) -> dict[int, Any]:
        """Row → (field, rule) pairs of the records the output schema refuses."""
        plan = self.schema.plan
        if plan is not None:
            return plan.check_columns(seen)
        reference = self.schema.reference  # an output schema outside the hot path's subset
        return {
            i: [(v.field, v.rule) for v in reference.explain(rec, i + 1)]
            for i in range(n)
            if not reference.is_valid(rec := RecordSchema.row_record(seen, i))
        }

    def message(self, rule: str, field_ptr: str, treated: Any, seen: Any, i: int) -> str:
        col = treated.get(field_ptr[1:])
        if seen is not treated and col is not None and col[i] == "":
            return (
                "is an empty string, which a CSV cell cannot tell from a missing "
                "value (use --to jsonl or --to json)"
            )
        return message_for(rule, self.props.get(field_ptr[1:], {}))


class _Pass:
    """The batches of one pass on their way from the checked input to the writer: treated,
    keyed (by forked helpers from the second batch on, when there are any), checked as the
    recipient reads them, measured by the gates, written — in input order. Fails closed: after
    the first rejection nothing more is treated or written."""

    def __init__(
        self,
        transformer: Transformer,
        keyring: Keyring | None,
        out: _OutputCheck,
        gate: PrivacyGate,
        writer: RecordWriter,
        result: PassResult,
        workers: int,
        skip_check: bool,
        progress: Progress | None,
    ) -> None:
        self.transformer = transformer
        self.keyring = keyring
        self.out = out
        self.gate = gate
        self.writer = writer
        self.result = result
        self.workers = workers
        self.skip_check = skip_check
        self.progress = progress
        self.helpers: KeyedHelpers | None = None
        self.pending: collections.deque[_Batch] = collections.deque()  # oldest first

    def refuses(self, rejected: set[int]) -> bool:
        """Whether :meth:`emit` treats nothing of a batch with these rejected rows (fail
        closed: a rejected row, or one before it, unless the check is skipped)."""
        return self.result.rejected or (bool(rejected) and not self.skip_check)

    def emit(
        self,
        start: int,
        columns: Mapping[str, Sequence[Any]],
        n: int,
        rejected: set[int],
        raw: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        result = self.result
        if self.progress is not None:
            self.progress.records(start + n)
        if rejected and not self.skip_check:
            result.rejected = True
        if result.rejected:
            return  # fail closed: nothing more is treated or written
        keep: list[int] | None = None
        if rejected:  # --unsafe-skip-check: invalid records are dropped, never passed on
            keep = [i for i in range(n) if i not in rejected]
            columns = {k: [col[i] for i in keep] for k, col in columns.items()}
            n = len(keep)
        try:
            staged = self.transformer.stage(columns, n)
        except TreatmentError as exc:
            self._treatment_failed(start, keep, exc)
            return
        batch = _Batch(start, n, staged, keep, raw)
        if staged.tasks and self.workers:
            self._dispatch(batch)
        self.pending.append(batch)
        while len(self.pending) > self.workers:
            self._finish(self.pending.popleft())

    def drain(self) -> None:
        while self.pending:
            self._finish(self.pending.popleft())

    def close(self) -> None:
        if self.helpers is not None:
            self.helpers.close()

    def _dispatch(self, batch: _Batch) -> None:
        """Hand a batch's keyed work to a helper (from the second batch on)."""
        if self.helpers is None and self.pending:
            assert self.keyring is not None
            self.helpers = KeyedHelpers(self.keyring, self.workers)
        helpers = self.helpers
        if helpers is None:
            return
        ticket = helpers.next_ticket
        if helpers.busy[ticket]:  # collect what that helper is doing first
            held = next(b for b in self.pending if b.ticket == ticket and b.keyed is None)
            held.keyed = helpers.result(ticket)
        batch.ticket = helpers.submit(batch.staged.tasks)

    def _treatment_failed(self, start: int, keep: list[int] | None, exc: TreatmentError) -> None:
        row = keep[exc.index] if keep is not None else exc.index  # the row in the input batch
        report = self.result.report
        report.add(Violation(start + row + 1, "/" + exc.field, exc.rule, exc.detail))
        report.invalid_records += 1
        self.result.rejected = True

    def _keyed(self, batch: _Batch) -> list[list[str]] | None:
        keyed = batch.keyed
        if keyed is None and batch.ticket is not None:
            assert self.helpers is not None
            keyed = self.helpers.result(batch.ticket)  # collected even when rejected: frees it
        if keyed is None and batch.staged.tasks and not self.result.rejected:
            assert self.keyring is not None
            keyed = run_tasks(self.keyring, batch.staged.tasks)
        return keyed

    def _finish(self, batch: _Batch) -> None:
        keyed = self._keyed(batch)
        if self.result.rejected:
            return
        staged = batch.staged
        treated = staged.complete(keyed) if keyed is not None else staged.out
        seen = self.out.seen(treated)
        bad = self.out.problems(seen, batch.n)
        if bad:
            self._refused(batch, bad, treated, seen)
            return
        # The gates measure what the recipient reads back (`seen`), before kept CSV cells go
        # out as they came in (`treated` may be `seen` itself).
        self.gate.observe(seen, batch.n, batch.start)
        if self.out.passthrough and batch.raw is not None:
            self._pass_cells_through(batch, treated)
        self.writer.write(treated, batch.n)
        self.result.records_out += batch.n

    def _refused(self, batch: _Batch, bad: Mapping[int, Any], treated: Any, seen: Any) -> None:
        out_report = self.result.output_report
        for i, pairs in sorted(bad.items()):
            row = batch.keep[i] if batch.keep is not None else i  # the row in the input batch
            for field_ptr, rule in pairs:
                message = self.out.message(rule, field_ptr, treated, seen, i)
                out_report.add(Violation(batch.start + row + 1, field_ptr, rule, message))
        out_report.invalid_records += len(bad)
        self.result.rejected = True

    def _pass_cells_through(self, batch: _Batch, treated: dict[str, Sequence[Any]]) -> None:
        assert batch.raw is not None
        keep = batch.keep
        for source_name, name in self.out.passthrough:
            cells = batch.raw.get(source_name)
            if cells is not None:
                treated[name] = [cells[i] for i in keep] if keep is not None else cells


class _Discard:
    """A hasher that keeps nothing: the input is not fingerprinted without a keyring."""

    def update(self, data: bytes) -> None:
        pass


def refuse_csv_for_structures(schema: Mapping[str, Any]) -> None:
    """CSV cells hold scalars: refuse CSV when a column of the record ``schema`` may hold
    objects or arrays (or nothing tells its type: no ``type``, ``enum`` or ``const``, also
    not through ``$ref``, ``anyOf``/``oneOf`` or ``allOf``; :func:`declared_types`)."""
    for name, prop in schema.get("properties", {}).items():
        listed = declared_types(prop, schema)
        if not listed or not listed <= CSV_TYPES:
            raise UsageError(
                f"output column `{name}` may hold objects or arrays, which CSV cannot "
                "carry: use JSON Lines or JSON"
            )


def _as_csv_reads(
    columns: Mapping[str, Sequence[Any]], empty_cells: Mapping[str, Any]
) -> Mapping[str, Sequence[Any]]:
    """The columns as a CSV reader will see them: an empty string becomes an empty cell."""
    if not any("" in col for col in columns.values()):
        return columns
    return {
        name: [empty_cells.get(name, MISSING) if v == "" else v for v in col] if "" in col else col
        for name, col in columns.items()
    }


def _types(prop: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> frozenset[str]:
    """The JSON types a column can hold (``string`` when nothing tells), as
    :func:`declared_types` infers them; a ``$ref`` is followed into ``root`` when given."""
    return declared_types(prop, root) or frozenset({"string"})


def raise_if_rejected(result: PassResult) -> None:
    """Turn a rejected pass into :class:`RejectedError` naming the first problem (no value)."""
    if not result.rejected:
        return
    if result.privacy is not None and result.privacy.failed:  # the records themselves passed
        raise privacy_rejection(result.privacy)
    for rep, what in ((result.report, "input"), (result.output_report, "output")):
        if rep.errors:
            v = rep.errors[0]
            raise rejection(
                what,
                v.record,
                v.field,
                v.rule,
                v.message,
                more=rep.total_errors - 1,
                hint="run `ketenx check` for the full report; nothing was written"
                if what == "input"
                else "the treated records do not match the output schema; nothing was written",
            )
    raise RejectedError("input rejected; nothing was written")


def privacy_rejection(
    outcome: PrivacyOutcome, *, done: str = "nothing was written"
) -> RejectedError:
    """The refusal of a delivery by the privacy gates: the rule that failed and the figures,
    never a value or a class."""
    if outcome.findings:
        f = outcome.findings[0]
        more = len(outcome.findings) - 1
        return RejectedError(
            f"identifiers in a field the contract keeps: field /{f.field}: rule {f.rule}: "
            f"{count_of(f.records, 'record')} (first: record {f.first[0]})"
            + (f" (and {count_of(more, 'more finding')})" if more > 0 else ""),
            hint="drop or treat the field, or turn the rule off for it in the contract "
            f"(scan: {{ignore: [{f.rule}]}}); `ketenx scan` lists every finding; {done}",
        )
    a = outcome.assessment
    assert a is not None
    figures = (
        f"{count_of(a.measured_records, 'record')}, "
        + ("1 class, " if a.classes == 1 else f"{a.classes} classes, ")
        + f"{a.records_below_k} in classes below k, {a.sample_uniques} unique"
    )
    return RejectedError(
        "re-identification risk above the contract's thresholds: "
        + "; ".join(map(failure_text, a.failures))
        + f" ({figures})",
        hint="generalise a quasi-identifier one step further (or allow max_suppression) in "
        f"the contract; `ketenx risk` shows which one contributes most; {done}",
    )
