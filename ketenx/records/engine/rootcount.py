"""Errors of a schema with root applicators, counted by rule column by column.

A record's errors in the reference (:meth:`ketenx.records.validation.Reference.explain`) are
the errors of each root keyword, as one set: two errors with the same field, rule and
message are one. So for a schema whose root holds ``if``/``then``/``else``, ``allOf``,
``anyOf``, ``oneOf`` or ``not`` (the engine plan's row masks, :mod:`.rows`), a batch's
errors by rule are counted in two parts:

* the root's ``properties``, ``required`` and ``dependentRequired``: column by column, as
  :func:`~ketenx.records.engine.attribution.count_errors` counts a schema without
  applicators;
* the applicators: each compiled into *error masks*, one boolean mask over the batch per
  error the reference names — ``(field, rule, message)`` — on the rows where the applicator
  applies (``then`` where ``if`` holds, ``else`` where it does not, every branch of
  ``allOf``). ``anyOf``, ``oneOf`` and ``not`` are one error of the record (field ``""``)
  where their row mask fails; a property's subschema gives one mask per keyword it breaks
  (the engine's deciders, the exact checks once per distinct value for the rest);
  ``required`` and ``dependentRequired`` one per absent field; a ``false`` subschema one
  where its property is present (of the record, for a ``false`` branch).

Masks of the same key are or-ed, and an applicator's error that the root's own keywords give
on the same row is not counted twice: the set semantics of the reference. Where a message is
not known here (a property written as a nullable ``anyOf``/``oneOf`` pair words its errors
as its branch does) and another error with the same field and rule falls on the same row,
the row is *doubtful*: its record is built and explained by the reference, as on the precise
path. So the counts, the invalid
records and the rejected rows are the precise path's (``tests/property/test_engine_rootcount.py``
requires it on generated schemas).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from ...canonical import pointer
from ..validation import (
    ColumnPlan,
    RecordSchema,
    cell_judge,
    flat_property,
    message_for,
    nullable_branches,
    resolve_ref,
)
from .arrays import bools, lengths, mask, strings
from .attribution import (
    Attribution,
    Counted,
    _ColumnRules,
    _string_deciders,
    attribution_for,
    build_columns,
    count_errors,
)
from .deciders import decide_all
from .plan import _judge, _subschema_judge
from .rows import APPLICATORS, Batch, RowTest, Unsupported, compile_rows

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pyarrow as pa

    from .plan import FieldProgram, Plan

#: One error as the reference names it: (field pointer, rule, message). A message that is not
#: known here is a token of its own, starting with NUL (never a real message).
Key = tuple[str, str, str]
_UNKNOWN: Final = "\0"


@dataclass
class Sink:
    """The error masks of one batch, and its doubtful rows."""

    n: int
    keys: dict[Key, Any] = field(default_factory=dict)
    doubt: Any = None

    def add(self, key: Key, rows: np.ndarray[Any, Any]) -> None:
        if not rows.any():
            return
        held = self.keys.get(key)
        self.keys[key] = rows.copy() if held is None else held | rows

    def doubtful(self, rows: np.ndarray[Any, Any]) -> None:
        if rows.any():
            self.doubt = rows.copy() if self.doubt is None else self.doubt | rows


#: An applicator's errors: given the batch and the rows where it applies, into the sink.
Emitter = Callable[[Batch, Any, Sink], None]


def _nothing(batch: Batch, active: np.ndarray[Any, Any], sink: Sink) -> None:
    return None


# --- a property's errors by rule --------------------------------------------------------------


@dataclass
class RuleMasks:
    """One property's (sub)schema over its column: the rows breaking each keyword."""

    rules: _ColumnRules
    rejected: Callable[[Any, int], np.ndarray[Any, Any]]  # exact: the rows it rejects
    null_breaks: tuple[str, ...]  # what an empty cell (null) breaks, for a nullable column

    def __call__(self, cells: pa.Array, n: int) -> dict[str, np.ndarray[Any, Any]]:
        import numpy as np

        out: dict[str, np.ndarray[Any, Any]] = {}
        rejected = self.rejected(cells, n)
        if not rejected.any():
            return out
        empty = lengths(cells) == 0
        if self.null_breaks and empty.any():
            for rule in self.null_breaks:
                out[rule] = empty & rejected
        doubtful = rejected & ~empty
        if not doubtful.any():
            return out
        index = np.flatnonzero(doubtful)
        values = cells.filter(bools(doubtful))
        for rule, rows in _by_rule(self.rules, values).items():
            hit = np.zeros(n, dtype=bool)
            hit[index[rows]] = True
            out[rule] = out[rule] | hit if rule in out else hit
        return out


def _by_rule(rules: _ColumnRules, values: pa.Array) -> dict[str, np.ndarray[Any, Any]]:
    """The non-empty cells ``values`` that break each keyword (deciders where they decide,
    the exact checks once per distinct value elsewhere)."""
    import numpy as np
    import pyarrow.compute as pc

    n = len(values)
    out: dict[str, np.ndarray[Any, Any]] = {}
    undecided = np.ones(n, dtype=bool)
    if rules.deciders is not None:
        verdicts, undecided = decide_all(rules.deciders, values)
        out.update((rule, broken) for rule, broken in verdicts if broken.any())
    if not undecided.any():
        return out
    texts: list[str] = pc.unique(values.filter(bools(undecided))).to_pylist()
    breaking: dict[str, list[str]] = {}
    for text in texts:
        for rule in rules.of_cell(text):
            breaking.setdefault(rule, []).append(text)
    for rule, listed in breaking.items():
        hits = mask(pc.is_in(values, value_set=strings(listed))) & undecided
        out[rule] = out[rule] | hits if rule in out else hits
    return out


def rule_masks(
    schema: RecordSchema,
    plan: Plan,
    name: str,
    body: Mapping[str, Any],
    rejected: Callable[[Any, int], np.ndarray[Any, Any]],
) -> RuleMasks:
    """The :class:`RuleMasks` of the flat (sub)schema ``body`` of property ``name``, judged on
    the value the cell becomes under the root property's type."""
    judge = cell_judge(schema, name, body)
    null_breaks: tuple[str, ...] = ()
    if schema.allows_null(name):
        null_breaks = tuple(rule for rule, check in judge.checks if not check(None))
    deciders = _string_deciders(judge, body) if schema.keeps_strings(name) else None
    return RuleMasks(_ColumnRules(judge, plan.fields[name], (), deciders), rejected, null_breaks)


# --- emitters ---------------------------------------------------------------------------------


def _all_of(parts: list[Emitter]) -> Emitter:
    if not parts:
        return _nothing
    if len(parts) == 1:
        return parts[0]

    def emit(batch: Batch, active: np.ndarray[Any, Any], sink: Sink) -> None:
        for part in parts:
            part(batch, active, sink)

    return emit


def _record_error(key: Key, fails: RowTest | None) -> Emitter:
    """One error of the record where ``fails`` (every row, when None) holds."""

    def emit(batch: Batch, active: np.ndarray[Any, Any], sink: Sink) -> None:
        sink.add(key, active if fails is None else active & fails(batch))

    return emit


def _absent(batch: Batch, name: str) -> np.ndarray[Any, Any]:
    import numpy as np

    found = batch.present.get(name)
    return np.ones(batch.n, dtype=bool) if found is None else ~found


def _required(key: Key, name: str) -> Emitter:
    def emit(batch: Batch, active: np.ndarray[Any, Any], sink: Sink) -> None:
        sink.add(key, active & _absent(batch, name))

    return emit


def _dependent(key: Key, name: str, other: str) -> Emitter:
    def emit(batch: Batch, active: np.ndarray[Any, Any], sink: Sink) -> None:
        if name in batch.present:
            sink.add(key, active & batch.present[name] & _absent(batch, other))

    return emit


def _present_error(key: Key, name: str) -> Emitter:
    def emit(batch: Batch, active: np.ndarray[Any, Any], sink: Sink) -> None:
        if name in batch.present:
            sink.add(key, active & batch.present[name])

    return emit


def _property_errors(name: str, masks: RuleMasks, keys: Mapping[str, Key]) -> Emitter:
    def emit(batch: Batch, active: np.ndarray[Any, Any], sink: Sink) -> None:
        cells = batch.columns.get(name)
        if cells is None or not active.any():
            return
        for rule, rows in masks(cells, batch.n).items():
            sink.add(keys[rule], active & rows)

    return emit


def _if_then_else(cond: RowTest, then: Emitter, other: Emitter) -> Emitter:
    def emit(batch: Batch, active: np.ndarray[Any, Any], sink: Sink) -> None:
        holds = cond(batch)
        then(batch, active & holds, sink)
        other(batch, active & ~holds, sink)

    return emit


# --- compiling the applicators ----------------------------------------------------------------


@dataclass
class _Compiler:
    """Compiles root applicators into emitters, noting every key they can give."""

    schema: RecordSchema
    plan: Plan
    keys: list[Key] = field(default_factory=list)
    unknown: Iterator[int] = field(default_factory=itertools.count)

    def key(self, where: str, rule: str, message: str | None) -> Key:
        if message is None:
            message = f"{_UNKNOWN}{next(self.unknown)}"
        found = (where, rule, message)
        self.keys.append(found)
        return found

    def rows(self, node: Any) -> RowTest:
        return compile_rows(self.schema, node, _subschema_judge)

    def node(self, node: Any) -> Emitter:
        """The emitter of a subschema that applies to the whole record."""
        node = resolve_ref(node, self.schema.schema)
        if node is True:
            return _nothing
        if node is False:
            return _record_error(self.key("", "false", message_for("false", {})), None)
        if not isinstance(node, Mapping):  # pragma: no cover - compile_rows refused it
            raise Unsupported("a subschema that is not an object")
        parts = [self.property(name, sub) for name, sub in node.get("properties", {}).items()]
        fixed = message_for("required", {})
        for name in dict.fromkeys(node.get("required", [])):
            parts.append(_required(self.key(pointer(name), "required", fixed), name))
        fixed = message_for("dependentRequired", {})
        for name, needed in node.get("dependentRequired", {}).items():
            for other in dict.fromkeys(needed):
                error = self.key(pointer(other), "dependentRequired", fixed)
                parts.append(_dependent(error, name, other))
        parts.extend(self.node(branch) for branch in node.get("allOf", []))
        for word in ("anyOf", "oneOf"):
            if word in node:
                test = self.rows({word: node[word]})
                split = nullable_branches(node, self.schema.schema)
                if split is not None and split[0] == word:  # pragma: no cover - refused by
                    raise Unsupported("a nullable pair of record schemas")  # compile_rows
                error = self.key("", word, message_for(word, node))
                parts.append(_record_error(error, _failing(test)))
        if "not" in node:
            error = self.key("", "not", message_for("not", node))
            parts.append(_record_error(error, _failing(self.rows({"not": node["not"]}))))
        if "if" in node:
            then, other = (self.node(node.get(k, True)) for k in ("then", "else"))
            parts.append(_if_then_else(self.rows(node["if"]), then, other))
        return _all_of(parts)

    def property(self, name: str, sub: Any) -> Emitter:
        root = self.schema.schema
        sub = resolve_ref(sub, root)
        if sub is True or name not in self.schema.property_names:
            return _nothing  # (a name that is no property is never in a CSV record)
        where = pointer(name)
        if sub is False:
            return _present_error(self.key(where, "false", message_for("false", {})), name)
        flat = flat_property(sub, root)
        if flat is None:  # pragma: no cover - compile_rows refused it
            raise Unsupported(f"the subschema of `{name}` in a root applicator")
        body = flat[0]
        rejected = _subschema_judge(self.schema, name, body)
        masks = rule_masks(self.schema, self.plan, name, body, rejected)
        keys = {
            rule: self.key(where, rule, message_for(rule, body) if flat[1] is None else None)
            for rule, _ in masks.rules.judge.checks
        }
        return _property_errors(name, masks, keys)


def _failing(test: RowTest) -> RowTest:
    return lambda batch: ~test(batch)


# --- the root's own keywords, and the count ---------------------------------------------------


@dataclass
class RootCount:
    """What :meth:`count` needs of a schema with root applicators (:func:`root_count_for`)."""

    schema: RecordSchema
    base: Attribution  # the root's properties, required and dependentRequired
    emit: Emitter  # the applicators' errors
    base_rows: dict[Key, Callable[[Batch], np.ndarray[Any, Any]]]  # the root's own errors
    dedupe: frozenset[Key]  # an applicator's error the root's own keywords also give
    overlaps: list[tuple[list[Key], list[Key]]]  # (applicator, root) keys: two on a row = doubt

    def count(self, columns: Mapping[str, pa.Array], n: int) -> Counted:
        """The rows of a batch that break a rule, and its errors by rule as the reference
        counts them (the arguments of :func:`~ketenx.records.engine.attribution.count_errors`)."""
        import numpy as np

        schema = self.schema
        present = {
            name: np.ones(n, dtype=bool) if schema.allows_null(name) else lengths(cells) != 0
            for name, cells in columns.items()
        }
        batch = Batch(columns, present, n)
        sink = Sink(n)
        self.emit(batch, np.ones(n, dtype=bool), sink)
        base_rows: dict[Key, np.ndarray[Any, Any]] = {}

        def root_rows(key: Key) -> np.ndarray[Any, Any]:
            if key not in base_rows:
                base_rows[key] = self.base_rows[key](batch)
            return base_rows[key]

        for theirs, ours in self.overlaps:
            held = [sink.keys[k] for k in theirs if k in sink.keys]
            if not held:
                continue
            total = np.sum([*held, *map(root_rows, ours)], axis=0)
            sink.doubtful(total >= 2)
        keep = None if sink.doubt is None else ~sink.doubt
        bad, counts = self._base(columns, n, keep)
        for key, rows in sink.keys.items():
            if keep is not None:
                rows = rows & keep
            bad |= rows
            if key in self.dedupe:
                rows = rows & ~root_rows(key)
            k = int(rows.sum())
            if k:  # (a count of 0 would be a key of the report's counts: an invalid file)
                counts[key[1]] += k
        if sink.doubt is not None:
            self._explain(columns, sink.doubt, bad, counts)
        return Counted(bad, counts)

    def _base(
        self, columns: Mapping[str, pa.Array], n: int, keep: np.ndarray[Any, Any] | None
    ) -> tuple[np.ndarray[Any, Any], Counter[str]]:
        """The root's own keywords counted over the rows ``keep`` (None: all)."""
        import numpy as np

        if keep is None:
            counted = count_errors(self.base, columns, n)
            return counted.bad, counted.counts
        chosen = bools(keep)
        index = np.flatnonzero(keep)
        counted = count_errors(
            self.base, {k: v.filter(chosen) for k, v in columns.items()}, len(index)
        )
        bad = np.zeros(n, dtype=bool)
        bad[index[counted.bad]] = True
        return bad, counted.counts

    def _explain(
        self,
        columns: Mapping[str, pa.Array],
        doubt: np.ndarray[Any, Any],
        bad: np.ndarray[Any, Any],
        counts: Counter[str],
    ) -> None:
        """The doubtful rows judged by the reference, as the precise path judges them."""
        import numpy as np

        schema = self.schema
        chosen = bools(doubt)
        values = {
            name: schema.coerce_column(name, cells.filter(chosen).to_pylist())
            for name, cells in columns.items()
        }
        reference = schema.reference
        for j, i in enumerate(np.flatnonzero(doubt).tolist()):
            record = RecordSchema.row_record(values, j)
            found = reference.explain(record, i + 1)
            if found or not reference.is_valid(record):
                bad[i] = True
                counts.update(v.rule for v in found)


#: How ``check`` counts a piece's errors once its list is full: the Arrow columns of the
#: header's schema columns and the row count to the rows that break a rule and the errors by rule.
ErrorCounter = Callable[[Mapping[str, "pa.Array"], int], Counted]


def counter_for(schema: RecordSchema, plan: Plan) -> ErrorCounter | None:
    """How the errors of ``schema`` are counted column by column
    (:func:`~ketenx.records.engine.attribution.count_errors` for a schema the column plan
    judges, :meth:`RootCount.count` for one with root row masks), or ``None`` when they are
    counted record by record by the precise path."""
    flat = attribution_for(schema, plan)
    if flat is not None:
        return partial(count_errors, flat)
    cached = getattr(schema, "_engine_root_count", None)
    if cached is None:
        cached = root_count_for(schema, plan) or False
        schema._engine_root_count = cached  # type: ignore[attr-defined]
    return cached.count if isinstance(cached, RootCount) else None


def root_count_for(schema: RecordSchema, plan: Plan) -> RootCount | None:
    """The :class:`RootCount` of a schema whose engine plan has root row masks, or None when
    its root keywords outside the applicators are not the column plan's."""
    root = schema.schema
    reduced = {k: v for k, v in root.items() if k not in APPLICATORS}
    if plan.precise is not None or plan.rows is None or not ColumnPlan.supports(reduced):
        return None
    base = build_columns(schema, plan)
    if base is None:  # pragma: no cover - the column plan carries every property
        return None
    compiler = _Compiler(schema, plan)
    try:
        emit = compiler.node({k: v for k, v in root.items() if k in APPLICATORS})
    except Unsupported:  # pragma: no cover - the plan compiled the same row masks
        return None
    base_rows = _root_keys(schema, plan, compiler)
    groups: dict[tuple[str, str], tuple[list[Key], list[Key]]] = {}
    for key in dict.fromkeys(compiler.keys):
        groups.setdefault(key[:2], ([], []))[0].append(key)
    for key in base_rows:
        if key[:2] in groups:
            groups[key[:2]][1].append(key)
    overlaps = []
    for theirs, ours in groups.values():
        unknown = any(k[2].startswith(_UNKNOWN) for k in (*theirs, *ours))
        if unknown and len(theirs) + len(ours) > 1:
            overlaps.append((theirs, ours))
    dedupe = frozenset(k for k in compiler.keys if k in base_rows)
    return RootCount(schema, base, emit, base_rows, dedupe, overlaps)


def _root_keys(
    schema: RecordSchema, plan: Plan, compiler: _Compiler
) -> dict[Key, Callable[[Batch], np.ndarray[Any, Any]]]:
    """Every error the root's own keywords can give, and how to find its rows in a batch."""
    root = schema.schema
    out: dict[Key, Callable[[Batch], np.ndarray[Any, Any]]] = {}
    required = set(schema.required_names)
    for name in schema.property_names:
        flat = flat_property(root["properties"][name], root)
        assert flat is not None  # (ColumnPlan.supports)
        body = flat[0]
        program = plan.fields[name]
        masks = rule_masks(schema, plan, name, body, partial(_rejected, program))
        where = pointer(name)
        for rule, _ in masks.rules.judge.checks:
            message = message_for(rule, body) if flat[1] is None else None
            key = (where, rule, message or f"{_UNKNOWN}{next(compiler.unknown)}")
            out[key] = _rule_rows(name, rule, masks)
        if name in required and not schema.allows_null(name):
            out[(where, "required", message_for("required", {}))] = partial(_absent_rows, name)
    needed_by: dict[str, list[str]] = {}
    for name, needed in plan.dependent:
        for other in dict.fromkeys(needed):
            needed_by.setdefault(other, []).append(name)
    for other, names in needed_by.items():
        key = (pointer(other), "dependentRequired", message_for("dependentRequired", {}))
        out[key] = partial(_companion_rows, other, names)
    return out


def _rejected(program: FieldProgram, cells: pa.Array, n: int) -> np.ndarray[Any, Any]:
    return _judge(program, cells, n)[0]


def _rule_rows(name: str, rule: str, masks: RuleMasks) -> Callable[[Batch], Any]:
    def rows(batch: Batch) -> np.ndarray[Any, Any]:
        import numpy as np

        cells = batch.columns.get(name)
        found = None if cells is None else masks(cells, batch.n).get(rule)
        return np.zeros(batch.n, dtype=bool) if found is None else found

    return rows


def _absent_rows(name: str, batch: Batch) -> np.ndarray[Any, Any]:
    import numpy as np

    if name not in batch.columns:
        return np.zeros(batch.n, dtype=bool)  # (a required column is in the header)
    return _absent(batch, name)


def _companion_rows(other: str, names: list[str], batch: Batch) -> np.ndarray[Any, Any]:
    import numpy as np

    rows = np.zeros(batch.n, dtype=bool)
    for name in names:
        if name in batch.present:
            rows |= batch.present[name] & _absent(batch, other)
    return rows


__all__ = ["RootCount", "Sink", "counter_for", "root_count_for", "rule_masks"]
