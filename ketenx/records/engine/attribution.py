"""Errors counted by rule over a batch of Arrow string columns, a column at a time.

Once a report's list of errors is full (``--max-errors``), ``check`` only counts what is left,
by rule (:class:`ketenx.records.batches.FileReport`). The precise path gets those counts by
building every record's (field, rule) pairs with the column plan
(:class:`ketenx.records.validation.ColumnPlan`): per value and per keyword, in Python. This
module gets the same rows and the same counts column by column:

* an empty cell breaks ``required`` (a required property that an empty cell leaves absent)
  or, for a nullable property, the keywords ``null`` fails;
* the non-empty cells of a column whose cells stay strings are judged keyword by keyword by
  the :mod:`~ketenx.records.engine.deciders` (the 11-proef, dates, postcodes, e-mail, enum,
  lengths, patterns RE2 can carry), each error counted where decided; a cell some keyword
  leaves undecided is judged by the exact checks, once per distinct value;
* a column of numbers or booleans: the plan's kernels confirm cells, the exact checks
  decide the rest once per distinct value (``pyarrow.compute.value_counts``);
* ``dependentRequired``: one error per row and per absent companion field, however many
  present fields need it, as the column plan names them.

Only for a schema the column plan judges (:attr:`RecordSchema.plan`) and an engine plan
without root row masks (:func:`attribution_for` gives ``None`` otherwise). A schema with root
``if``/``then``/``else``, ``allOf``, ``anyOf``, ``oneOf`` or ``not`` is counted by
:mod:`~ketenx.records.engine.rootcount`, which uses this module for the root's own keywords
and adds the applicators' errors as the reference names them; its ``counter_for`` says which
of the two counts a schema.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ..validation import CellJudge, RecordSchema, cell_judge, flat_property
from .arrays import bools, lengths, non_empty, strings
from .deciders import Decider, decide_all, fails_all, string_decider

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pyarrow as pa

    from .plan import FieldProgram, Plan

_CACHE_LIMIT: Final = 50_000  # distinct cells whose rules are remembered, per column


@dataclass
class _ColumnRules:
    """How the errors of one property's column are found and named."""

    judge: CellJudge
    program: FieldProgram
    empty: tuple[str, ...]  # what an empty cell breaks, when it breaks something
    deciders: list[tuple[str, Decider]] | None  # strings: per keyword; else None
    seen: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def of_cell(self, text: str) -> tuple[str, ...]:
        """The keywords a non-empty cell breaks, by the exact checks (in their order)."""
        rules = self.seen.get(text)
        if rules is None:
            judge = self.judge
            value = text if judge.coerce is None else judge.coerce(text)
            rules = tuple(rule for rule, check in judge.checks if not check(value))
            if len(self.seen) < _CACHE_LIMIT:
                self.seen[text] = rules
        return rules


@dataclass
class Attribution:
    """What :func:`count_errors` needs of a schema, compiled once (:func:`attribution_for`)."""

    columns: dict[str, _ColumnRules]
    dependent: list[tuple[str, list[str]]]  # companion field → the fields that need it


@dataclass
class Counted:
    """A batch judged: the rows that break a rule, and the errors by rule."""

    bad: np.ndarray[Any, Any]
    counts: Counter[str]


def attribution_for(schema: RecordSchema, plan: Plan) -> Attribution | None:
    """The :class:`Attribution` of ``schema`` (kept with it), or ``None`` when the precise
    path's judge of ``schema`` is not the column plan, or the engine plan has row masks
    (:mod:`~ketenx.records.engine.rootcount` counts those)."""
    if schema.plan is None or plan.precise is not None or plan.rows is not None:
        return None
    cached = getattr(schema, "_engine_attribution", None)
    if isinstance(cached, Attribution):
        return cached
    attribution = build_columns(schema, plan)
    schema._engine_attribution = attribution  # type: ignore[attr-defined]
    return attribution


def build_columns(schema: RecordSchema, plan: Plan) -> Attribution | None:
    """The :class:`Attribution` of the root's ``properties``, ``required`` and
    ``dependentRequired`` (``None`` when a property is not flat)."""
    root = schema.schema
    columns: dict[str, _ColumnRules] = {}
    for name in schema.property_names:
        flat = flat_property(root["properties"][name], root)
        if flat is None:  # pragma: no cover - the column plan carries every property
            return None
        judge = cell_judge(schema, name, flat[0])
        if schema.allows_null(name):
            empty = tuple(rule for rule, check in judge.checks if not check(None))
        else:
            empty = ("required",)
        deciders = _string_deciders(judge, flat[0]) if schema.keeps_strings(name) else None
        columns[name] = _ColumnRules(judge, plan.fields[name], empty, deciders)
    needed_by: dict[str, list[str]] = {}
    for name, needed in plan.dependent:
        for other in dict.fromkeys(needed):
            needed_by.setdefault(other, []).append(name)
    return Attribution(columns, list(needed_by.items()))


def _string_deciders(judge: CellJudge, schema: Mapping[str, Any]) -> list[tuple[str, Decider]]:
    out: list[tuple[str, Decider]] = []
    for rule, check in judge.checks:
        if rule == "type":  # the same verdict for every string
            if not check(""):
                out.append((rule, fails_all))
            continue
        decider = string_decider(rule, schema)
        if decider is not None:
            out.append((rule, decider))
    return out


def count_errors(attribution: Attribution, columns: Mapping[str, pa.Array], n: int) -> Counted:
    """The rows of a batch that break a rule, and its errors by rule as the column plan
    counts them, given the cells of the header's schema columns as Arrow string arrays
    (no nulls; the same as :meth:`~ketenx.records.engine.plan.Plan.screen` takes)."""
    import numpy as np

    counts: Counter[str] = Counter()
    bad = np.zeros(n, dtype=bool)
    present: dict[str, np.ndarray[Any, Any]] = {}
    for name, cells in columns.items():
        rules = attribution.columns[name]
        empty = lengths(cells) == 0
        present[name] = np.ones(n, dtype=bool) if rules.program.nullable else ~empty
        any_empty = bool(empty.any())
        if any_empty:
            program = rules.program
            breaks = rules.empty if program.nullable or program.required else ()
            if breaks:
                bad |= empty
                k = int(empty.sum())
                for rule in breaks:
                    counts[rule] += k
        index, values = non_empty(cells, empty, any_empty)
        if len(values) == 0:
            continue
        failing = _failing(rules, values, counts)
        if index is None:
            bad |= failing
        else:
            bad[index[failing]] = True
    for other, names in attribution.dependent:
        missing = _absent_companion(present, other, names)
        k = 0 if missing is None else int(missing.sum())
        if k:  # (a count of 0 would be a key of the report's counts: an invalid file)
            counts["dependentRequired"] += k
            bad |= missing
    return Counted(bad, counts)


def _failing(rules: _ColumnRules, values: pa.Array, counts: Counter[str]) -> np.ndarray[Any, Any]:
    """The non-empty cells ``values`` that break a rule; their errors added to ``counts``."""
    import numpy as np

    n = len(values)
    if rules.deciders is None:  # numbers or booleans: the plan's kernels confirm
        confirmed = np.zeros(n, dtype=bool)
        if not rules.program.per_value:
            confirmed = ~confirmed
            for _, kernel in rules.program.kernels:
                confirmed &= kernel(values)
        return _exactly(rules, values, ~confirmed, counts)
    failing = np.zeros(n, dtype=bool)
    verdicts, undecided = decide_all(rules.deciders, values)
    for rule, broken in verdicts:
        k = int(broken.sum())
        if k:
            counts[rule] += k
            failing |= broken
    if undecided.any():
        failing |= _exactly(rules, values, undecided, counts)
    return failing


def _exactly(
    rules: _ColumnRules, values: pa.Array, doubtful: np.ndarray[Any, Any], counts: Counter[str]
) -> np.ndarray[Any, Any]:
    """The ``doubtful`` cells that break a rule, by the exact checks once per distinct
    value; their errors added to ``counts``."""
    import numpy as np
    import pyarrow.compute as pc

    if not doubtful.any():
        return np.zeros(len(values), dtype=bool)
    tally = pc.value_counts(values.filter(bools(doubtful)))
    texts: Sequence[str] = tally.field("values").to_pylist()
    times: Sequence[int] = tally.field("counts").to_pylist()
    broken: list[str] = []
    for text, k in zip(texts, times, strict=True):
        found = rules.of_cell(text)
        if found:
            broken.append(text)
            for rule in found:
                counts[rule] += k
    if not broken:
        return np.zeros(len(values), dtype=bool)
    from .arrays import mask

    hits: np.ndarray[Any, Any] = mask(pc.is_in(values, value_set=strings(broken))) & doubtful
    return hits


def _absent_companion(
    present: Mapping[str, np.ndarray[Any, Any]], other: str, names: list[str]
) -> np.ndarray[Any, Any] | None:
    """The rows where a field that needs ``other`` is present and ``other`` is absent."""
    rows = None
    for name in names:
        if name not in present:
            continue
        here = present[name] if other not in present else present[name] & ~present[other]
        rows = here if rows is None else rows | here
    return rows


__all__ = ["Attribution", "Counted", "attribution_for", "count_errors"]
