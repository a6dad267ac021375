"""A contract's record schema compiled into column operations over Arrow batches.

:func:`compile_plan` turns the schema into one :class:`FieldProgram` per property: whether a
CSV cell stays a string or becomes a number or boolean (as
:meth:`ketenx.records.validation.RecordSchema.coerce_column` does it), and its keywords as Arrow
compute kernels and numpy operations that *confirm* values (``utf8_length``, ``is_in``,
RE2 where it means what the ECMA-262 pattern means, the 11-proef over a fixed-width view of
the digits, calendar dates from fixed positions). A value no kernel confirms is decided by
the exact per-value checks of :mod:`ketenx.records.validation`, once per distinct value in
the batch, so every field's verdict is exact. Root keywords that are row masks (``required``,
``dependentRequired``) are combined over the batch; anything else makes the plan
*precise*: its batches go through the per-record reference.

The plan is a **screen**: :meth:`Plan.screen` says which rows of a batch break a rule. A batch
without one is valid as it stands (no record is built); a batch with one is handed to the
precise code, which writes the report, so reports are the same whichever path ran.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from ..formats import FORMATS
from ..validation import (
    ROOT_KEYWORDS,
    RecordSchema,
    cell_judge,
    declared_types,
    flat_property,
)
from .arrays import bools, floats, lengths, mask, non_empty, strings
from .regex import to_re2
from .rows import APPLICATORS, Batch, RowTest, Unsupported, compile_rows

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pyarrow as pa

Kernel = Callable[["pa.Array"], "np.ndarray[Any, Any]"]

_SAFE_INT: Final = 2**53
_INT_TEXT: Final = r"\A[+-]?[0-9]{1,15}\z"  # an int() of at most 15 digits: exact as a float
_NUM_TEXT: Final = r"\A[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\z"
_BIG_INT_TEXT: Final = r"\A[+-]?[0-9]{16,}\z"  # int() exact, a float not: per value
_BOOL_TEXT: Final = r"\A(?:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])\z"


@dataclass(frozen=True)
class FieldPath:
    """Which path one field takes, and why (``contract lint --explain``, statistics)."""

    field: str  # the property name (from the contract)
    path: str  # "columnar", "per-value", "native" or "precise"
    reason: str


@dataclass
class FieldProgram:
    """How one property's column is judged."""

    name: str
    required: bool
    nullable: bool  # an empty cell is null (else: absent)
    strings: bool  # cells stay strings
    exact: Callable[[str], bool] | None  # a non-empty cell's value passes every keyword
    null_ok: bool = True  # null passes every keyword
    kernels: list[tuple[str, Kernel]] = field(default_factory=list)
    per_value: list[str] = field(default_factory=list)  # keywords decided value by value
    precise: str | None = None  # why this property is not columnar at all
    native: str | None = None  # not flat: what it is, judged by its own native validator

    def explain(self) -> FieldPath:
        if self.precise is not None:
            return FieldPath(self.name, "precise", self.precise)
        if self.native is not None:
            return FieldPath(
                self.name,
                "native",
                f"native: {self.native} (jsonschema-rs, compiled once; "
                "what it does not accept goes to the reference)",
            )
        if self.per_value:
            return FieldPath(
                self.name,
                "per-value",
                "decided per distinct value in each batch: " + ", ".join(self.per_value),
            )
        rules = ", ".join(k for k, _ in self.kernels) or "no keyword"
        return FieldPath(self.name, "columnar", f"column kernels: {rules}")


@dataclass
class Plan:
    """A compiled record schema: one program per property and the root's row masks."""

    fields: dict[str, FieldProgram]
    dependent: list[tuple[str, list[str]]]
    precise: str | None  # why batches cannot be screened (a root keyword), or None
    rows: RowTest | None = None  # the root's if/then/else, allOf, … as a row mask
    native_root: str | None = None  # precise, but the root keywords judged natively: which

    def explain(self) -> list[FieldPath]:
        out = [p.explain() for p in self.fields.values()]
        if self.precise is not None and self.native_root is not None:
            why = (
                f"{self.native_root}: each record by jsonschema-rs (native), the fields by the "
                "column plan and their own native validators; CSV is read by the precise reader"
            )
            return [p if p.path == "precise" else FieldPath(p.field, "native", why) for p in out]
        if self.precise is not None:
            out = [
                p if p.path == "precise" else FieldPath(p.field, "precise", self.precise)
                for p in out
            ]
        return out

    def screen(
        self,
        columns: Mapping[str, pa.Array],
        n: int,
    ) -> np.ndarray[Any, Any] | None:
        """The rows of a batch that break a rule (a boolean mask), given the cells of the
        header's schema columns as Arrow string arrays (no nulls). ``None`` when the plan is
        precise."""
        import numpy as np

        if self.precise is not None:
            return None
        bad = np.zeros(n, dtype=bool)
        present: dict[str, np.ndarray[Any, Any]] = {}
        for name, cells in columns.items():
            program = self.fields[name]
            col_bad, col_present = _judge(program, cells, n)
            bad |= col_bad
            present[name] = col_present
        for name, needed in self.dependent:
            if name not in present:
                continue
            for other in needed:
                if other not in present:
                    bad |= present[name]
                else:
                    bad |= present[name] & ~present[other]
        if self.rows is not None:
            bad |= ~self.rows(Batch(columns, present, n))
        return bad


def compile_plan(schema: RecordSchema) -> Plan:
    """The plan of a compiled record schema (once per schema: see :func:`plan_for`)."""
    root = schema.schema
    precise: str | None = None
    extra = sorted(set(root) - ROOT_KEYWORDS - APPLICATORS)
    props = root.get("properties")
    if root.get("type") != "object":
        precise = "the record schema does not state `type: object`"
    elif extra:
        precise = f"root keyword {', '.join(f'`{k}`' for k in extra)} is checked per record"
    elif not isinstance(props, Mapping):
        precise = "the record schema has no `properties`"
    elif not isinstance(root.get("additionalProperties", True), bool):
        precise = "`additionalProperties` is a schema: checked per record"
    elif not all(isinstance(r, str) and r in props for r in root.get("required", [])):
        precise = "`required` names a field that is not a property"
    dependent: list[tuple[str, list[str]]] = []
    deps = root.get("dependentRequired", {})
    if precise is None and isinstance(deps, Mapping):
        for name, needed in deps.items():
            if not (isinstance(needed, list) and all(isinstance(x, str) for x in needed)):
                precise = "`dependentRequired` is not a list of names"
                break
            dependent.append((name, list(needed)))
    fields: dict[str, FieldProgram] = {}
    required = set(root.get("required", [])) if isinstance(root.get("required"), list) else set()
    for name in schema.property_names:
        fields[name] = _compile_field(schema, name, name in required)
    if precise is None:
        worst = next((p for p in fields.values() if p.precise is not None), None)
        if worst is not None:
            precise = f"field `{worst.name}`: {worst.precise}"
    rows: RowTest | None = None
    applied = {k: v for k, v in root.items() if k in APPLICATORS}
    if precise is None and applied:
        try:
            rows = compile_rows(schema, applied, _subschema_judge)
        except Unsupported as exc:
            precise = f"{exc}: checked per record"
    native_root = None
    if precise is not None:
        from .native import record_plan_for

        record = record_plan_for(schema)
        native_root = None if record is None or record.root is None else record.root.kind
    return Plan(
        fields=fields, dependent=dependent, precise=precise, rows=rows, native_root=native_root
    )


def plan_for(schema: RecordSchema) -> Plan:
    """The plan of ``schema``, compiled on first use and kept with it."""
    plan = getattr(schema, "_engine_plan", None)
    if plan is None:
        plan = compile_plan(schema)
        schema._engine_plan = plan  # type: ignore[attr-defined]
    assert isinstance(plan, Plan)
    return plan


def _compile_field(schema: RecordSchema, name: str, required: bool) -> FieldProgram:
    root = schema.schema
    given = root["properties"][name]
    flat = flat_property(given, root)
    types = declared_types(given, root)
    keeps = schema.keeps_strings(name)
    nullable = types is not None and "null" in types
    program = FieldProgram(name, required, nullable, keeps, exact=None)
    if flat is None:
        _native_program(schema, program)
        return program
    sub = flat[0]
    judge = cell_judge(schema, name, sub)
    program.exact = judge.cell
    program.null_ok = judge.value(None)
    if keeps:
        _string_kernels(program, sub)
    else:
        _number_kernels(program, sub, types or frozenset())
    return program


def _native_program(schema: RecordSchema, program: FieldProgram) -> None:
    """A property that is not flat: its native validator decides each distinct cell's value
    (a CSV cell is never an object or array: the precise path and the reference explain), or
    the reason it has none makes it precise."""
    from .native import native_field

    found = native_field(schema, program.name)
    if isinstance(found, str):
        program.precise = (
            f"its schema uses keywords outside the column plan, not native ({found}): "
            "checked per record"
        )
        return
    name = program.name
    program.native = found.kind
    program.exact = lambda text: found.accepts(schema.coerce_column(name, [text])[0])
    program.null_ok = found.accepts(None)
    program.per_value.append(f"native: {found.kind}")


# --- kernels -----------------------------------------------------------------------------------


def _regex(pattern: str) -> Kernel:
    def kernel(cells: pa.Array) -> np.ndarray[Any, Any]:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            return mask(pc.match_substring_regex(cells, pattern))
        except pa.ArrowInvalid:  # RE2 refuses it (nested counts multiply): nothing confirmed,
            return np.zeros(len(cells), dtype=bool)  # the ECMA engine decides per value

    return kernel


def _code_points(cells: pa.Array) -> np.ndarray[Any, Any]:
    """The length of each string in code points, as JSON Schema counts it."""
    import numpy as np
    import pyarrow.compute as pc

    counted = pc.utf8_length(cells)
    return np.frombuffer(counted.buffers()[1], np.int32)[
        counted.offset : counted.offset + len(cells)
    ]


def _string_kernels(program: FieldProgram, sub: Mapping[str, Any]) -> None:
    kernels = program.kernels
    for key in ("enum", "const"):
        if key in sub:
            members = sub["enum"] if key == "enum" else [sub["const"]]
            texts = sorted({m for m in members if isinstance(m, str)})

            def member(cells: pa.Array, texts: list[str] = texts) -> np.ndarray[Any, Any]:
                import pyarrow.compute as pc

                return mask(pc.is_in(cells, value_set=strings(texts)))

            kernels.append((key, member))
    if "minLength" in sub:
        lo = sub["minLength"]
        kernels.append(("minLength", lambda c: _code_points(c) >= lo))
    if "maxLength" in sub:
        hi = sub["maxLength"]
        kernels.append(("maxLength", lambda c: _code_points(c) <= hi))
    if "pattern" in sub:
        re2 = to_re2(sub["pattern"])
        if re2 is None:
            program.per_value.append("`pattern` (ECMA-262 only: regress)")
        else:
            kernels.append(("pattern", _regex(re2)))
    fmt = sub.get("format")
    if isinstance(fmt, str) and fmt in FORMATS:
        from .formats import FORMAT_KERNELS

        kernel = FORMAT_KERNELS.get(fmt)
        if kernel is None:
            program.per_value.append(f"format `{fmt}`")
        else:
            kernels.append((fmt, kernel))


def _number_kernels(program: FieldProgram, sub: Mapping[str, Any], types: frozenset[str]) -> None:
    """Kernels for a column whose cells become numbers or booleans: a cell is confirmed
    when it has the shape that coerces to an allowed type and its value passes the bounds,
    ``multipleOf`` and ``enum``/``const`` (those without a kernel: per value)."""
    kernel = _NumberKernel(
        want_int="integer" in types,
        want_num="number" in types,
        want_bool="boolean" in types,
        bounds=_number_bounds(program, sub),
    )
    kernel.multiple, kernel.decimals = _number_multiple(program, sub)
    kernel.members, kernel.bool_members = _number_members(program, sub)
    rules = ["type", *(k for k, _ in kernel.bounds)]
    if kernel.multiple is not None or kernel.decimals is not None:
        rules.append("multipleOf")
    if kernel.members is not None or kernel.bool_members:
        rules.append("enum/const")
    program.kernels.append((" + ".join(rules), kernel))


def _number_bounds(program: FieldProgram, sub: Mapping[str, Any]) -> list[tuple[str, float]]:
    """The bounds a float comparison decides exactly (others: per value)."""
    bounds: list[tuple[str, float]] = []
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key not in sub:
            continue
        b = sub[key]
        if isinstance(b, bool) or not isinstance(b, int | float) or abs(b) >= _SAFE_INT:
            program.per_value.append(f"`{key}`")
            continue
        bounds.append((key, float(b)))
    return bounds


def _number_multiple(
    program: FieldProgram, sub: Mapping[str, Any]
) -> tuple[float | None, int | None]:
    """``multipleOf`` as a whole divisor, or as a count of decimal places (others: per value)."""
    if "multipleOf" not in sub:
        return None, None
    m = sub["multipleOf"]
    if isinstance(m, int) and not isinstance(m, bool) and 0 < m < _SAFE_INT:
        return float(m), None
    decimals = _decimal_places(m)
    if decimals is None:
        program.per_value.append("`multipleOf`")
    return None, decimals


def _number_members(
    program: FieldProgram, sub: Mapping[str, Any]
) -> tuple[list[float] | None, list[str]]:
    """The numbers and the boolean spellings ``enum``/``const`` allow."""
    members: list[float] | None = None
    bool_members: list[str] = []
    for key in ("enum", "const"):
        if key not in sub:
            continue
        values = sub["enum"] if key == "enum" else [sub["const"]]
        nums = [
            float(v)
            for v in values
            if isinstance(v, int | float)
            and not isinstance(v, bool)
            and math.isfinite(v)
            and abs(v) < _SAFE_INT
        ]
        members = nums if members is None else [v for v in members if v in nums]
        texts = [str(v).lower() for v in values if isinstance(v, bool)]
        bool_members = texts if key == "enum" or not bool_members else bool_members
        if key == "const" and "enum" in sub:
            program.per_value.append("`enum` with `const`")
    return members, bool_members


@dataclass
class _NumberKernel:
    """The confirmation kernel of a number/boolean column (see :func:`_number_kernels`)."""

    want_int: bool
    want_num: bool
    want_bool: bool
    bounds: list[tuple[str, float]]
    multiple: float | None = None
    decimals: int | None = None
    members: list[float] | None = None
    bool_members: list[str] = field(default_factory=list)

    def __call__(self, cells: pa.Array) -> np.ndarray[Any, Any]:
        import numpy as np

        ok = np.zeros(len(cells), dtype=bool)
        if self.want_int or self.want_num:
            ok |= self._numbers(cells)
        if self.want_bool:
            ok |= self._booleans(cells)
        return ok

    def _shape(self, cells: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Cells written as an allowed number, and their values."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        n = len(cells)
        if not self.want_num:  # integer only: whole numbers of at most 15 digits
            shape = mask(pc.match_substring_regex(cells, _INT_TEXT))
        elif self.decimals is not None:  # of at most `decimals` places, 15 digits in all
            shape = mask(pc.match_substring_regex(cells, self._decimal_text()))
        else:  # (_INT_TEXT is a part of _NUM_TEXT without _BIG_INT_TEXT: one pass less)
            shape = mask(pc.match_substring_regex(cells, _NUM_TEXT))
            if n and pc.max(pc.binary_length(cells)).as_py() > 15:
                shape &= ~mask(pc.match_substring_regex(cells, _BIG_INT_TEXT))
        numbers = np.zeros(n, dtype=np.float64)
        if not shape.any():
            return shape, numbers
        try:
            values = floats(pc.cast(cells.filter(bools(shape)), pa.float64()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            shape[:] = False
            return shape, numbers
        numbers[shape] = values
        shape &= np.isfinite(numbers)
        return shape, numbers

    def _decimal_text(self) -> str:
        """A number of at most ``decimals`` places and 15 digits (its double is the nearest
        to a multiple of 10^-decimals; :meth:`_numbers`)."""
        assert self.decimals is not None
        digits = max(1, 15 - self.decimals)
        tail = f"(?:\\.[0-9]{{0,{self.decimals}}})?" if self.decimals else ""
        return f"\\A[+-]?[0-9]{{1,{digits}}}{tail}\\z"

    def _numbers(self, cells: pa.Array) -> np.ndarray[Any, Any]:
        import numpy as np
        import pyarrow.compute as pc

        shape, numbers = self._shape(cells)
        good = shape.copy()
        for key, b in self.bounds:
            good &= _compare(key, numbers, b)
        if self.multiple is not None:
            whole = np.abs(numbers) < _SAFE_INT
            good &= whole & (np.fmod(numbers, self.multiple) == 0)
        elif self.decimals is not None and not self.want_num:  # (else the shape's test)
            good &= mask(pc.match_substring_regex(cells, self._decimal_text()))
        if self.members is not None:
            good &= np.isin(numbers, np.asarray(self.members, dtype=np.float64))
        return good

    def _booleans(self, cells: pa.Array) -> np.ndarray[Any, Any]:
        import pyarrow.compute as pc

        flags = mask(pc.match_substring_regex(cells, _BOOL_TEXT))
        if self.members is not None or self.bool_members:
            lowered = pc.utf8_lower(cells)
            flags &= mask(pc.is_in(lowered, value_set=strings(self.bool_members)))
        return flags


def _compare(key: str, values: np.ndarray[Any, Any], bound: float) -> np.ndarray[Any, Any]:
    if key == "minimum":
        return values >= bound
    if key == "maximum":
        return values <= bound
    if key == "exclusiveMinimum":
        return values > bound
    return values < bound


def _decimal_places(m: Any) -> int | None:
    """k when ``m`` is 10^-k (0.1, 0.01, …, up to six places), else None."""
    if not isinstance(m, float):
        return None
    for k in range(1, 7):
        if repr(m) == "0." + "0" * (k - 1) + "1":
            return k
    return None


# --- judging one column ---------------------------------------------------------------------


def _judge(
    program: FieldProgram, cells: pa.Array, n: int
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """(rows that break a rule, rows where the property is present) for one column."""
    import numpy as np
    import pyarrow.compute as pc

    empty = lengths(cells) == 0
    bad = np.zeros(n, dtype=bool)
    any_empty = bool(empty.any())
    if any_empty:
        if program.nullable:
            if not program.null_ok:
                bad |= empty
        elif program.required:
            bad |= empty
    present = np.ones(n, dtype=bool) if program.nullable else ~empty
    index, values = non_empty(cells, empty, any_empty)
    if len(values) == 0:
        return bad, present
    confirmed = np.ones(len(values), dtype=bool)
    for _, kernel in program.kernels:
        confirmed &= kernel(values)
        if not confirmed.any():
            break
    if program.per_value:
        confirmed[:] = False
    if not confirmed.all():
        assert program.exact is not None
        doubtful = values.filter(bools(~confirmed))
        failing = [v for v in pc.unique(doubtful).to_pylist() if not program.exact(v)]
        if failing:
            hits = mask(pc.is_in(values, value_set=strings(failing))) & ~confirmed
            if index is None:
                bad |= hits
            else:
                bad[index[hits]] = True
    return bad, present


__all__ = ["FieldPath", "FieldProgram", "Plan", "compile_plan", "plan_for"]


def _subschema_judge(
    schema: RecordSchema, name: str, body: Mapping[str, Any]
) -> Callable[[Any, int], np.ndarray[Any, Any]]:
    """How a root applicator's subschema ``body`` of property ``name`` judges a column
    (:data:`~ketenx.records.engine.rows.PropertyJudge`): like a root property, its kernels
    confirming values and the exact checks deciding the rest once per distinct value, on the
    value the cell becomes under the root property's type."""
    root = schema.schema
    judge = cell_judge(schema, name, body)
    nullable = schema.allows_null(name)
    program = FieldProgram(
        name, False, nullable, schema.keeps_strings(name), judge.cell, judge.value(None)
    )
    root_types = declared_types(root["properties"][name], root) or frozenset()
    own = declared_types(body, root)
    if own is None or root_types <= own:  # the kernels' type test is the root's coercion
        if program.strings:
            _string_kernels(program, body)
        else:
            _number_kernels(program, body, root_types)
    else:
        program.per_value.append("a narrower type")
    return lambda cells, n: _judge(program, cells, n)[0]
