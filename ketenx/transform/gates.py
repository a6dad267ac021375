"""The privacy gates of a delivery, applied while it is written (``docs/privacy.md`` §5).

:class:`PrivacyGate` watches the treated records of a ``pseudonymise`` or ``pack`` pass as
they go to the writer: it counts the equivalence classes of the output's quasi-identifiers
exactly (:class:`~.risk.RiskCounter`) and scans the kept string fields for identifiers
(:class:`~.scan.Scanner`). After the pass, :meth:`PrivacyGate.finish` gives the verdict.

Suppression needs the class sizes before a record may be written, and the input must not be
read twice. So, when the contract allows suppression (``max_suppression`` > 0), the writer
writes into an anonymous temporary file (unlinked from the start: nothing is left behind on
any signal), and the gate keeps one 32-bit class number per record in a second one. After
the pass, :meth:`PrivacyGate.copy` copies the records of the classes that stay, byte for
byte, into the real output (Parquet: row group by row group through the same writer, with a
keep mask from the class numbers); the input is read once, the output written twice. Memory holds
the class table only (a few bytes per class), whatever the number of records. Without
``max_suppression`` the writer writes straight to the output and nothing is spilled.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import shutil
import tempfile
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from ..errors import OperationalError
from .risk import Assessment, Failure, Policy, RiskCounter, assess
from .scan import Finding, Scanner, scanned_fields

if TYPE_CHECKING:
    from ..records.readers import InputFormat

RiskVerdict = Literal["passed", "failed", "skipped", "not-measured"]

_CHUNK = 1 << 16  # class numbers read at a time when copying


@dataclass(frozen=True)
class PrivacyOutcome:
    """What the gates found: the risk verdict and figures, and the identifiers in kept fields."""

    risk: RiskVerdict
    assessment: Assessment | None  # None: skipped, or no threshold to measure
    findings: tuple[Finding, ...]
    scanned: tuple[str, ...]  # the output fields scanned

    @property
    def failed(self) -> bool:
        return self.risk == "failed" or bool(self.findings)

    @property
    def suppressed(self) -> int:
        return self.assessment.suppressed if self.assessment is not None else 0

    def record(self) -> dict[str, Any]:
        """The ``privacy`` member of the metadata and the signed predicate: the verdicts and
        the achieved figures (after suppression), never a value."""
        a = self.assessment
        return {
            "risk": self.risk,
            "scan": "passed" if self.scanned else "not-applicable",
            "records_suppressed": self.suppressed,
            "achieved": None
            if a is None
            else {
                "k": a.smallest_class,
                "classes": a.classes,
                "max_record_risk": a.max_record_risk,
                "average_risk": a.average_risk,
                "l_distinct": dict(a.l_distinct),
                "l_entropy": dict(a.l_entropy),
            },
        }


class PrivacyGate:
    """Counts and scans the output of one pass; spills it when suppression may be needed."""

    def __init__(self, contract: Any, *, skip_risk: bool = False, spill_dir: Path | None = None):
        self.policy = Policy.from_contract(contract)
        self.skip_risk = skip_risk
        measured = self.policy.measured and not skip_risk
        self.counter = RiskCounter(self.policy) if measured else None
        self.scanner = Scanner(scanned_fields(contract, side="output"))
        self.suppressing = self.counter is not None and self.policy.max_suppression > 0
        self._spill_dir = spill_dir
        self._data: IO[bytes] | None = None
        self._classes: IO[bytes] | None = None
        self._number: dict[int, int] = {}  # class key → class number in the spill
        self.outcome: PrivacyOutcome | None = None

    def spill(self) -> IO[bytes] | None:
        """Where the writer writes instead of the output when suppression may be needed
        (``None``: straight to the output)."""
        if not self.suppressing:
            return None
        self._data = self._spill()
        self._classes = self._spill()
        return self._data

    def _spill(self) -> IO[bytes]:
        return tempfile.TemporaryFile(dir=self._spill_dir, prefix=".ketenx-spill-")

    def observe(self, columns: Mapping[str, Sequence[Any]], n: int, start: int) -> None:
        """A batch of ``n`` treated records about to be written (``start``: records before)."""
        if self.counter is not None:
            keys = self.counter.add(columns, n)
            if self._classes is not None:
                number = self._number
                setdefault = number.setdefault
                array("I", [setdefault(k, len(number)) for k in keys]).tofile(self._classes)
        if self.scanner.fields:
            self.scanner.add(columns, n, start + 1)

    def finish(self) -> PrivacyOutcome:
        """The verdict, with suppression worked out when the contract allows it."""
        assessment = None
        if self.counter is None:
            risk: RiskVerdict = (
                "skipped" if self.skip_risk and self.policy.measured else ("not-measured")
            )
        else:
            assessment = assess(self.counter, suppress=self.suppressing)
            if assessment.suppressed and not assessment.records:  # nothing would be left
                every = Failure("suppression", self.policy.max_suppression, 1.0, "every record")
                assessment = dataclasses.replace(assessment, failures=(every,))
            risk = "passed" if assessment.passed else "failed"
        self.outcome = PrivacyOutcome(
            risk, assessment, tuple(self.scanner.results()), tuple(self.scanner.fields)
        )
        return self.outcome

    def copy(self, output: IO[bytes] | io.RawIOBase, fmt: str) -> None:
        """Copy the spilled records that are not suppressed into ``output``, byte for byte
        (JSON array separators rewritten; Parquet rewritten row group by row group with the
        same writer settings). Does nothing when nothing was spilled."""
        if self._data is None or self._classes is None:
            return
        self._data.flush()
        self._data.seek(0)
        outcome = self.outcome
        assert outcome is not None and outcome.assessment is not None
        gone = {self._number[key] for key in outcome.assessment.suppressed_keys}
        if not gone:
            shutil.copyfileobj(self._data, output, 1 << 20)
            return
        self._classes.flush()
        self._classes.seek(0)
        if fmt == "parquet":
            _copy_parquet(self._data, self._classes, gone, output)
            return
        keep = _keep_flags(self._classes, gone)
        records = _records(self._data, fmt)
        if fmt == "csv":
            output.write(next(records))  # the header
        if fmt != "json":
            output.writelines(rec for rec in records if next(keep))
            return
        wrote = False
        for rec in records:
            if rec in (b"[\n", b"[]\n"):
                continue  # the opening line
            if rec == b"]\n":
                break
            if next(keep):
                body = rec[:-2] if rec.endswith(b",\n") else rec[:-1]
                output.write((b",\n" if wrote else b"[\n") + body)
                wrote = True
        output.write(b"\n]\n" if wrote else b"[]\n")

    def close(self) -> None:
        for spill in (self._data, self._classes):
            if spill is not None:
                spill.close()
        self._data = self._classes = None


def _keep_flags(classes: IO[bytes], gone: set[int]) -> Iterator[bool]:
    """Per spilled record, in order: whether its class stays."""
    while True:
        chunk = array("I")
        with contextlib.suppress(EOFError):  # the last, partial chunk is still in `chunk`
            chunk.fromfile(classes, _CHUNK)
        if not chunk:
            return
        for number in chunk:
            yield number not in gone


def _copy_parquet(
    data: IO[bytes], classes: IO[bytes], gone: set[int], output: IO[bytes] | io.RawIOBase
) -> None:
    """The spilled Parquet file without the records of the classes in ``gone``, rewritten
    row group by row group (:func:`~ketenx.records.parquetwriter.copy_kept`)."""
    import numpy as np

    from ..records.parquetwriter import copy_kept

    dropped = np.fromiter(gone, dtype=np.uintc, count=len(gone))

    def keep(n: int) -> Any:
        numbers = array("I")
        try:
            numbers.fromfile(classes, n)  # one class number per record, in the spill's order
        except EOFError:
            raise OperationalError(
                "the spilled output and its class numbers do not match; nothing was written"
            ) from None
        return ~np.isin(np.frombuffer(numbers, dtype=np.uintc), dropped)

    buffered = io.BufferedWriter(output, 1 << 20)
    copy_kept(data, buffered, keep)
    buffered.flush()
    buffered.detach()  # the caller's sink stays open


def _records(data: IO[bytes], fmt: str) -> Iterator[bytes]:
    """The records of a file ketenx wrote, as their bytes: one line each in JSON Lines and
    JSON, and in CSV the lines up to an even number of quotes (a quoted cell may hold a line
    break; a quote inside one is doubled, so the count of quotes tells where a record ends)."""
    if fmt != "csv":
        yield from data
        return
    pending: list[bytes] = []
    odd = False
    for line in data:
        pending.append(line)
        if line.count(b'"') % 2:
            odd = not odd
        if not odd:
            yield b"".join(pending)
            pending.clear()


class RiskMeter:
    """The recipient's re-measurement of a delivery against its own contract: ``unpack`` and
    ``check --side output`` feed it the delivered records (:attr:`observer`, given to the
    :class:`~ketenx.records.check.Checker` as its ``observe`` hook)."""

    def __init__(self, contract: Any) -> None:
        self.policy = Policy.from_contract(contract)
        self.counter = RiskCounter(self.policy) if self.policy.measured else None

    @property
    def fields(self) -> tuple[str, ...]:
        """The output fields it needs: quasi-identifiers and sensitive attributes."""
        return (*self.policy.quasi_identifiers, *self.policy.sensitive)

    @property
    def observer(self) -> Callable[[Mapping[str, Sequence[Any]], int], object] | None:
        """The :attr:`Checker.observe` hook, or ``None`` when there is nothing to measure
        (no batch is then turned into columns for it)."""
        return self.counter.add if self.counter is not None else None

    def verdict(self) -> Assessment | None:
        """The figures and failures (no suppression: the delivery is what it is); ``None``
        when the contract sets no threshold."""
        return assess(self.counter, suppress=False) if self.counter is not None else None


# --- a file, as `ketenx risk` measures it -------------------------------------------------


class _NoKeys:
    """Stands in for the keyring when only classes are counted: keyed fields are counted on
    their values as they are, which split records at least as finely as their pseudonyms."""

    def pseudonymise_many(self, values: Any) -> list[str]:  # pragma: no cover - never called
        raise AssertionError("no keyed operation while measuring")

    def encrypt_many(self, values: Any, field: str) -> list[str]:  # pragma: no cover
        raise AssertionError("no keyed operation while measuring")

    def decrypt(self, token: str, field: str) -> str:  # pragma: no cover
        raise AssertionError("no keyed operation while measuring")

    def fingerprinter(self) -> None:  # pragma: no cover
        return None


def measure_file(
    name: str,
    input_format: InputFormat,
    contract: Any,
    *,
    side: str = "input",
    delimiter: str | None = None,
    encoding: str | None = None,
    progress: Any = None,
) -> RiskCounter:
    """The equivalence classes of one data file (``-``: standard input) against the
    contract's privacy block: on the sender's side with the contract's treatments applied,
    on the recipient's side as delivered. A CSV file is counted on Arrow
    (:mod:`ketenx.transform.fastrisk`) unless it needs the precise reader, which then counts it (and
    names what is wrong with a broken file). ``progress``: a :class:`ketenx.progress.Progress`.
    """
    from .transformer import output_schema

    policy = Policy.from_contract(contract)
    output_side = side == "output"
    schema = output_schema(contract) if output_side else dict(contract.schema)
    transformer = None if output_side else measuring_transformer(contract)
    if input_format == "csv" and _regular_file(name) and encoding in (None, "utf-8"):
        counter = _count_on_arrow(name, policy, schema, transformer, delimiter, progress)
        if counter is not None:
            return counter
    return _count_precisely(
        name, input_format, policy, schema, transformer, delimiter, encoding, progress
    )


def measuring_transformer(contract: Any) -> Any:
    """The contract's treatments as the privacy measurement applies them to a raw export:
    no keyed operation, and no value taken for checked (``risk`` does not check the schema)."""
    from .transformer import Transformer

    return Transformer(contract, _NoKeys(), checked=False)


def _regular_file(name: str) -> bool:
    """Whether ``name`` is a regular file, which the Arrow path may read (and, when it steps
    aside, the precise reader read again); a pipe can be read once only."""
    import os
    import stat

    try:
        return name != "-" and stat.S_ISREG(os.stat(name).st_mode)
    except OSError:
        return False  # the precise path says what is wrong with it


def _count_on_arrow(
    name: str,
    policy: Policy,
    schema: Mapping[str, Any],
    transformer: Any,
    delimiter: str | None,
    progress: Any,
) -> RiskCounter | None:
    from ..progress import counted
    from .fastrisk import Unsuitable, count_csv, risk_columns

    quasi, sensitive = risk_columns(policy, schema, transformer)
    counter = RiskCounter(policy)
    try:
        count_csv(
            name,
            counter,
            quasi,
            sensitive,
            delimiter=delimiter,
            wrap=lambda raw: counted(raw, progress),
            records=progress.records if progress is not None else None,
        )
    except Unsuitable:
        return None
    return counter


def _count_precisely(
    name: str,
    input_format: InputFormat,
    policy: Policy,
    schema: Mapping[str, Any],
    transformer: Any,
    delimiter: str | None,
    encoding: str | None,
    progress: Any,
) -> RiskCounter:
    wanted = {*policy.quasi_identifiers, *policy.sensitive}
    if transformer is None:
        names = sorted(wanted)
    else:
        names = [n for n, spec in transformer.contract.fields.items() if spec.output_name in wanted]
    counter = RiskCounter(policy)
    read = file_columns(name, input_format, schema, names, delimiter, encoding, progress)
    for columns, n in read:
        counter.add(transformer.stage(columns, n).out if transformer else columns, n)
    return counter


def file_columns(
    name: str,
    input_format: InputFormat,
    schema: Mapping[str, Any],
    names: Sequence[str],
    delimiter: str | None,
    encoding: str | None,
    progress: Any = None,
) -> Iterator[tuple[dict[str, Any], int]]:
    """Batches of the typed columns ``names`` of one data file (``-``: standard input) read
    by the precise reader, its progress told as it is read (what the gates measure)."""
    from ..progress import counted
    from ..records.readers import decoded
    from ..storage.fileio import open_input
    from .privacy_reports import read_columns

    with contextlib.ExitStack() as stack:
        stream = open_input(name)
        if name != "-":
            stack.enter_context(stream)
        text = decoded(counted(stream, progress), encoding)
        done = 0
        for columns, n in read_columns(
            text, input_format, schema, delimiter=delimiter, names=names
        ):
            yield dict(columns), n
            done += n
            if progress is not None:
                progress.records(done)
