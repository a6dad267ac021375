"""The output side: how a delivery of one contract is checked, built in one place.

``unpack``, ``reidentify`` and ``check --side output`` (:func:`ketenx.check` with
``side="output"``) all check delivered records the same way: against the output schema of the
contract's treatments (:func:`~ketenx.transform.transformer.output_schema`), with the CSV
formula neutralisation of the writer undone first, and, where the recipient re-measures the
contract's privacy thresholds, with a :class:`~ketenx.transform.gates.RiskMeter` fed the
records as they are read. :class:`DeliveredSide` compiles the output schema once;
:meth:`DeliveredSide.checker` builds the checker of one file, configured by its constructor.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..contract.model import Contract
from ..records.batches import ProgressCallback
from ..records.check import Checker
from ..records.validation import RecordSchema
from .gates import RiskMeter
from .transformer import output_schema


@dataclass(frozen=True)
class DeliveredSide:
    """The output side of one contract: its output schema, compiled once."""

    contract: Contract
    schema: RecordSchema

    @classmethod
    def of(cls, contract: Contract) -> DeliveredSide:
        return cls(contract, RecordSchema(output_schema(contract)))

    def checker(
        self,
        *,
        max_errors: int,
        allow_empty: bool = False,
        progress: ProgressCallback | None = None,
        measure_risk: bool = True,
    ) -> tuple[Checker, RiskMeter | None]:
        """The checker of one delivered file and, when ``measure_risk``, the meter it feeds
        (its :meth:`~ketenx.transform.gates.RiskMeter.verdict` once the file is read)."""
        meter = RiskMeter(self.contract) if measure_risk else None
        checker = Checker(
            self.schema,
            max_errors=max_errors,
            allow_empty=allow_empty,
            progress=progress,
            unneutralise=True,  # a delivery: its CSV cells were neutralised
            observe=meter.observer if meter is not None else None,
            observed=meter.fields if meter is not None else (),
        )
        return checker, meter


__all__ = ["DeliveredSide"]
