"""Re-identification risk of a delivery, measured exactly: k-anonymity, l-diversity and
prosecutor risk over the contract's quasi-identifiers (``docs/privacy.md``).

Pure core: :class:`RiskCounter` takes batches of **output** columns (after the contract's
generalisations) and counts equivalence classes exactly — every quasi-identifier value gets
a small integer code per column, and a record's class is the exact combination of its codes,
packed into one Python integer (no hashing that could merge two classes, no sketches).
:func:`assess` turns the counts into figures and a verdict against a :class:`Policy`, and
works out which records local suppression would remove.

Nothing here names a class by its values: the figures are counts and sizes only.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

from ..records.validation import MISSING

Missing = Literal["category", "wildcard"]
LKind = Literal["distinct", "entropy"]

#: Bits for one quasi-identifier's code in a class key: 2**32 distinct values per column.
_BITS = 32
_NONE = 0  # the code of an empty (null or absent) value


@dataclass(frozen=True)
class Policy:
    """The contract's ``privacy`` block, over output column names."""

    quasi_identifiers: tuple[str, ...]
    k: int | None = None
    sensitive: tuple[str, ...] = ()
    l: int | None = None  # noqa: E741 - the measure is called l
    l_kind: LKind = "distinct"
    max_record_risk: float | None = None
    max_average_risk: float | None = None
    max_suppression: float = 0.0
    missing: Missing = "category"
    declared: bool = False  # the contract names quasi-identifiers (maybe none delivered)

    @property
    def measured(self) -> bool:
        """Whether any threshold is set over named quasi-identifiers (otherwise there is
        nothing to enforce). When the contract drops every one of them, every record is in
        one class: that is measured too (the delivery is k-anonymous for k up to its size)."""
        return (self.declared or bool(self.quasi_identifiers)) and any(
            t is not None for t in (self.k, self.l, self.max_record_risk, self.max_average_risk)
        )

    @classmethod
    def from_contract(cls, contract: Any) -> Policy:
        """The policy of a :class:`~ketenx.contract.model.Contract`, with input names turned into
        the output names the delivery carries (a dropped field is not measured)."""
        privacy: Mapping[str, Any] = contract.privacy or {}
        fields = contract.fields

        def out(names: Iterable[str]) -> tuple[str, ...]:
            result = []
            for name in names:
                spec = fields.get(name)
                if spec is not None and spec.treatment != "drop":
                    result.append(spec.output_name)
            return tuple(result)

        risk = privacy.get("max_risk") or {}
        if not isinstance(risk, Mapping):
            risk = {"record": risk}
        return cls(
            quasi_identifiers=out(privacy.get("quasi_identifiers") or ()),
            k=privacy.get("k"),
            sensitive=out(privacy.get("sensitive") or ()),
            l=privacy.get("l"),
            l_kind=privacy.get("l_kind", "distinct"),
            max_record_risk=risk.get("record"),
            max_average_risk=risk.get("average"),
            max_suppression=float(privacy.get("max_suppression", 0.0)),
            missing=privacy.get("missing", "category"),
            declared=bool(privacy.get("quasi_identifiers")),
        )


def _empty(value: Any) -> bool:
    return value is None or value is MISSING


_EMPTY_TYPES = frozenset({type(None), type(MISSING)})


def _kind(kind: type) -> str:
    """The JSON type of a Python value's type (numbers share one: 1 and 1.0 are one value)."""
    if kind is bool:
        return "boolean"
    if kind is int or kind is float:
        return "number"
    return "string" if kind is str else kind.__name__


class RiskCounter:
    """Exact equivalence-class counts over batches of output columns, in one pass.

    Memory grows with the number of distinct classes (and, with sensitive attributes, of
    distinct class–value pairs), not with the number of records."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.records = 0
        self._codes: list[dict[Any, dict[Any, int]]] = [{} for _ in policy.quasi_identifiers]
        self._scodes: list[dict[Any, dict[Any, int]]] = [{} for _ in policy.sensitive]
        self.classes: Counter[int] = Counter()
        # Bits per quasi-identifier code in a class key (a counter filled from outside, as
        # ketenx.transform.fastrisk does, may pack its keys tighter).
        self.bits = _BITS
        # Per sensitive attribute: (class key, value code) -> count.
        self.pairs: list[Counter[tuple[int, int]]] = [Counter() for _ in policy.sensitive]

    def _column_codes(
        self, tables: list[dict[Any, dict[Any, int]]], j: int, col: Sequence[Any]
    ) -> list[int]:
        """Codes of one column's values: 0 for empty, else 1, 2, … by first appearance. Values
        of different JSON types never share a code (``1`` and ``"1"``, ``true`` and ``1``)."""
        per_type = tables[j]
        kinds = set(map(type, col)) - _EMPTY_TYPES
        kind = next(iter(kinds)) if len(kinds) == 1 else None
        if kind is str or kind is int or kind is float:
            table = per_type.setdefault(_kind(kind), {})
            codes: list[Any] = list(map(table.get, col))
            if None in codes:
                for i, code in enumerate(codes):
                    if code is None:
                        value = col[i]
                        if _empty(value):
                            codes[i] = _NONE
                        else:  # a value first seen in this batch may have been coded above
                            known = table.get(value)
                            codes[i] = self._new(per_type, table, value) if known is None else known
            return codes
        out = []
        for value in col:
            if _empty(value):
                out.append(_NONE)
                continue
            if isinstance(value, list | dict):
                value = json.dumps(value, sort_keys=True, ensure_ascii=False)
                table = per_type.setdefault("json", {})
            else:
                table = per_type.setdefault(_kind(type(value)), {})
            code = table.get(value)
            out.append(code if code is not None else self._new(per_type, table, value))
        return out

    @staticmethod
    def _new(per_type: dict[Any, dict[Any, int]], table: dict[Any, int], value: Any) -> int:
        count = per_type.setdefault("#", {"n": 0})
        count["n"] += 1
        table[value] = count["n"]
        return count["n"]

    def keys(self, columns: Mapping[str, Sequence[Any]], n: int) -> list[int]:
        """The class key of each of ``n`` records of a batch."""
        keys: list[int] = [0] * n
        for j, name in enumerate(self.policy.quasi_identifiers):
            col = columns.get(name)
            if col is None:
                continue  # absent in the whole batch: every value empty
            codes = self._column_codes(self._codes, j, col)
            if j == 0:
                keys = codes
            else:
                shift = _BITS * j
                keys = [k | (c << shift) for k, c in zip(keys, codes, strict=True)]
        return keys

    def add(self, columns: Mapping[str, Sequence[Any]], n: int) -> list[int]:
        """Count a batch; returns the class keys of its records (for suppression)."""
        keys = self.keys(columns, n)
        self.records += n
        self.classes.update(keys)
        for s, name in enumerate(self.policy.sensitive):
            col = columns.get(name) or [MISSING] * n
            codes = self._column_codes(self._scodes, s, col)
            self.pairs[s].update(zip(keys, codes, strict=True))
        return keys


@dataclass(frozen=True)
class Failure:
    """A threshold the delivery does not meet: rule, what the contract asks, what was found."""

    rule: Literal["k-anonymity", "l-diversity", "record-risk", "average-risk", "suppression"]
    required: float
    found: float
    detail: str


@dataclass(frozen=True)
class Assessment:
    """The figures of one delivery (after any suppression) and the verdict. Value-free."""

    records: int
    classes: int
    smallest_class: int
    records_below_k: int
    sample_uniques: int
    max_record_risk: float
    average_risk: float
    l_distinct: dict[str, int]
    l_entropy: dict[str, float]
    class_sizes: dict[str, int]  # histogram: "1", "2", "3-4", "5-9", … → classes
    without: dict[str, int]  # smallest class when one quasi-identifier is left out
    suppressed: int = 0
    suppressed_keys: frozenset[int] = field(default=frozenset(), repr=False)
    failures: tuple[Failure, ...] = ()
    measured_records: int = 0  # before suppression

    @property
    def passed(self) -> bool:
        return not self.failures


_BINS = ((1, 1), (2, 2), (3, 4), (5, 9), (10, 19), (20, 49), (50, 99), (100, None))


def _histogram(classes_at: Mapping[int, int]) -> dict[str, int]:
    """Classes by size, in bins: ``{"1": …, "2": …, "3-4": …, …, "100+": …}``."""
    hist = {(f"{lo}" if lo == hi else f"{lo}-{hi}" if hi else f"{lo}+"): 0 for lo, hi in _BINS}
    labels = list(hist)
    for size, n in classes_at.items():
        for label, (lo, hi) in zip(labels, _BINS, strict=True):
            if size >= lo and (hi is None or size <= hi):
                hist[label] += n
                break
    return hist


def _pattern(key: int, q: int, bits: int = _BITS) -> int:
    """Bit j set: quasi-identifier j is empty in the class ``key`` (``bits`` per code)."""
    mask = (1 << bits) - 1
    return sum(1 << j for j in range(q) if (key >> (bits * j)) & mask == _NONE)


def _keep_mask(keep: int, q: int, bits: int = _BITS) -> int:
    """The bit mask that keeps, of a class key, the quasi-identifiers whose bit is set in
    ``keep`` (the others become empty)."""
    mask = (1 << bits) - 1
    return sum(mask << (bits * j) for j in range(q) if keep >> j & 1)


def _project(key: int, keep: int, q: int, bits: int = _BITS) -> int:
    """``key`` with only the quasi-identifiers whose bit is set in ``keep``."""
    return key & _keep_mask(keep, q, bits)


def _projected(classes: Mapping[int, int], mask: int) -> dict[int, int]:
    """Class counts after a projection (``key & mask``)."""
    out: dict[int, int] = {}
    get = out.get
    for key, count in classes.items():
        projected = key & mask
        out[projected] = get(projected, 0) + count
    return out


def class_sizes(
    classes: Mapping[int, int], q: int, missing: Missing, bits: int = _BITS
) -> Mapping[int, int]:
    """The size each class counts for: its own count ("category": an empty value is one more
    value), or the number of records it cannot be told apart from ("wildcard": an empty
    value matches any value)."""
    if missing == "category" or not any(_pattern(k, q, bits) for k in classes):
        return classes  # each class counts for itself (not copied: there may be millions)
    full = (1 << q) - 1
    by_pattern: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for key, count in classes.items():
        by_pattern[_pattern(key, q, bits)].append((key, count))
    projections: dict[tuple[int, int], dict[int, int]] = {}

    def table(pattern: int, keep: int) -> dict[int, int]:
        if (pattern, keep) not in projections:
            mask = _keep_mask(keep, q, bits)
            projections[pattern, keep] = _projected(dict(by_pattern[pattern]), mask)
        return projections[pattern, keep]

    sizes: dict[int, int] = {}
    for key in classes:
        own = _pattern(key, q, bits)
        total = 0
        for pattern in by_pattern:
            keep = full & ~(own | pattern)
            total += table(pattern, keep).get(_project(key, keep, q, bits), 0)
        sizes[key] = total
    return sizes


def _entropy_l(counts: Sequence[int]) -> float:
    total = sum(counts)
    return math.exp(-sum(c / total * math.log(c / total) for c in counts))


def _diversity(
    pairs: Sequence[Counter[tuple[int, int]]], alive: Container[int]
) -> tuple[list[dict[int, int]], list[dict[int, float]]]:
    """Per sensitive attribute: distinct values and entropy l of each class in ``alive``,
    over the values that are there: an empty sensitive value is no value an attacker learns,
    and counting it as one more would make a class look more diverse than it is (the unsafe
    direction). A class whose every sensitive value is empty discloses none and is left
    out."""
    distinct: list[dict[int, int]] = []
    entropy: list[dict[int, float]] = []
    for counter in pairs:
        per: dict[int, list[int]] = defaultdict(list)
        for (key, value), count in counter.items():
            if value != _NONE and key in alive:
                per[key].append(count)
        distinct.append({key: len(v) for key, v in per.items()})
        entropy.append({key: _entropy_l(v) for key, v in per.items()})
    return distinct, entropy


def _violating(
    policy: Policy,
    sizes: Mapping[int, int],
    distinct: Sequence[Mapping[int, int]],
    entropy: Sequence[Mapping[int, float]],
) -> set[int]:
    """Classes that break a per-record threshold (k, record risk, l)."""
    least = policy.k or 1
    if policy.max_record_risk is not None and policy.max_record_risk > 0:
        least = max(least, math.ceil(1 / policy.max_record_risk - 1e-12))
    bad = {key for key, size in sizes.items() if size < least}
    if policy.l is not None:
        per_class = distinct if policy.l_kind == "distinct" else entropy
        for table in per_class:
            bad |= {key for key, value in table.items() if value < policy.l - 1e-12}
    return bad


def allowed_suppression(policy: Policy, records: int) -> int:
    """The most records ``max_suppression`` lets go: ⌊fraction × records⌋, computed so that
    a fraction written in decimal is exact at its boundary (0.29 of 100 is 29, although
    0.29 × 100 is 28.999… in binary floating point)."""
    return math.floor(Fraction(str(policy.max_suppression)) * records)


def assess(counter: RiskCounter, *, suppress: bool = True) -> Assessment:
    """Figures and verdict. With ``suppress`` and ``max_suppression`` > 0, whole records are
    suppressed: every class that breaks k, the record risk or l, then — for the average
    risk — the smallest remaining classes first, as long as the records suppressed stay
    within ``max_suppression``; otherwise nothing is suppressed and the failures stand."""
    policy = counter.policy
    q = len(policy.quasi_identifiers)
    classes = counter.classes  # not copied: there may be millions
    allowed = allowed_suppression(policy, counter.records) if suppress else 0
    removed: set[int] = set()
    if allowed:
        removed = _suppression(counter, classes, q, allowed)
    return _figures(counter, classes, removed, q)


def _suppression(
    counter: RiskCounter, classes: Mapping[int, int], q: int, allowed: int
) -> set[int]:
    """The classes to suppress, or none when more than ``allowed`` records would go."""
    policy = counter.policy
    alive = set(classes)
    removed: set[int] = set()
    while True:  # under "wildcard" a removal can shrink other classes: repeat until stable
        live = {k: classes[k] for k in alive}
        sizes = class_sizes(live, q, policy.missing, counter.bits)
        distinct, entropy = _diversity(counter.pairs, alive)
        bad = _violating(policy, sizes, distinct, entropy)
        if not bad:
            break
        removed |= bad
        alive -= bad
        if sum(classes[k] for k in removed) > allowed:
            return set()
    if policy.max_average_risk is not None:
        live = {k: classes[k] for k in alive}
        sizes = class_sizes(live, q, policy.missing, counter.bits)
        records = sum(live.values())
        risk_sum = sum(live[k] / sizes[k] for k in live)
        for size, key in sorted((sizes[k], k) for k in live):
            if not records or risk_sum / records <= policy.max_average_risk:
                break
            removed.add(key)
            records -= live[key]
            risk_sum -= live[key] / size
    if sum(classes[k] for k in removed) > allowed:
        return set()
    return removed


def _figures(
    counter: RiskCounter, classes: Mapping[int, int], removed: set[int], q: int
) -> Assessment:
    policy = counter.policy
    live = {k: v for k, v in classes.items() if k not in removed} if removed else classes
    sizes = class_sizes(live, q, policy.missing, counter.bits)
    distinct, entropy = _diversity(counter.pairs, live)
    # Records and classes by the size they count for: every figure follows from these.
    records_at: dict[int, int] = {}
    classes_at: dict[int, int] = {}
    if sizes is live:  # each class counts for itself: count the counts (at C speed)
        classes_at = dict(Counter(live.values()))
        records_at = {size: size * n for size, n in classes_at.items()}
    else:
        for key, count in live.items():
            size = sizes[key]
            records_at[size] = records_at.get(size, 0) + count
            classes_at[size] = classes_at.get(size, 0) + 1
    records = sum(records_at.values())
    smallest = min(classes_at, default=0)
    k = policy.k or 0
    below_k = sum(n for size, n in records_at.items() if size < k)
    uniques = records_at.get(1, 0)
    max_risk = 1 / smallest if smallest else 0.0
    average = sum(n / size for size, n in records_at.items()) / records if records else 0.0
    l_distinct = {
        name: min(d.values(), default=0) for name, d in zip(policy.sensitive, distinct, strict=True)
    }
    exact_entropy = {  # compared unrounded; shown rounded
        name: min(e.values(), default=0.0)
        for name, e in zip(policy.sensitive, entropy, strict=True)
    }
    l_entropy = {name: round(value, 6) for name, value in exact_entropy.items()}
    without: dict[str, int] = {}
    if q > 1:
        for j, name in enumerate(policy.quasi_identifiers):
            mask = _keep_mask(((1 << q) - 1) & ~(1 << j), q, counter.bits)
            reduced = class_sizes(_projected(live, mask), q, policy.missing, counter.bits)
            without[name] = min(reduced.values(), default=0)
    suppressed = sum(classes[k] for k in removed)
    failures = _failures(policy, smallest, l_distinct, exact_entropy, max_risk, average)
    if suppressed and suppressed > allowed_suppression(policy, counter.records):
        failures.append(
            Failure("suppression", policy.max_suppression, suppressed / counter.records, "")
        )
    return Assessment(
        records=records,
        classes=len(live),
        smallest_class=smallest,
        records_below_k=below_k,
        sample_uniques=uniques,
        max_record_risk=round(max_risk, 6),
        average_risk=round(average, 6),
        l_distinct=l_distinct,
        l_entropy=l_entropy,
        class_sizes=_histogram(classes_at),
        without=without,
        suppressed=suppressed,
        suppressed_keys=frozenset(removed),
        failures=tuple(failures),
        measured_records=counter.records,
    )


def _failures(
    policy: Policy,
    smallest: int,
    l_distinct: Mapping[str, int],
    l_entropy: Mapping[str, float],
    max_risk: float,
    average: float,
) -> list[Failure]:
    failures: list[Failure] = []
    if policy.k is not None and smallest and smallest < policy.k:
        failures.append(
            Failure("k-anonymity", policy.k, smallest, f"the smallest class holds {smallest}")
        )
    if policy.l is not None:
        found = l_distinct if policy.l_kind == "distinct" else l_entropy
        for name, value in found.items():
            if value < policy.l - 1e-12:
                failures.append(
                    Failure("l-diversity", policy.l, value, f"{policy.l_kind} l of {name}")
                )
    if policy.max_record_risk is not None and max_risk > policy.max_record_risk + 1e-12:
        failures.append(Failure("record-risk", policy.max_record_risk, round(max_risk, 6), ""))
    if policy.max_average_risk is not None and average > policy.max_average_risk + 1e-12:
        failures.append(Failure("average-risk", policy.max_average_risk, round(average, 6), ""))
    return failures
