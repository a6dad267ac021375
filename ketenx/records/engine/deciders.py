"""Column kernels that *decide* a keyword over strings, both ways, where they can.

The engine's kernels (:mod:`ketenx.records.engine.formats`, the plan's) confirm values: True
only where the exact check is True, False meaning "ask the exact check". Counting errors by
rule (:mod:`ketenx.records.engine.attribution`) over data that is mostly invalid needs the
other half too: a :data:`Decider` gives, per string, whether it passes and whether that
verdict is the exact check's (``decided``); only undecided strings go to the exact checks of
:mod:`ketenx.records.validation`, once per distinct value.

* ``nl-bsn`` and ``date``: the kernels are exact for every string (nine ASCII digits and the
  11-proef; ``YYYY-MM-DD`` naming a calendar day);
* ``nl-postcode``: exact for the written form ``9999 AA`` / ``9999AA`` (python-stdnum decides
  other spellings: lower case, hyphens, an ``NL`` prefix);
* ``iban``: exact for a Dutch IBAN in its compact form (``NL``, two check digits, four
  letters, ten digits: python-stdnum has no Dutch module, so the mod-97 check decides);
  other countries and spellings are left to python-stdnum;
* ``email``: the check's regular expression spelled out for ASCII strings (Python's ``\\s``
  over ASCII is ``[\\t-\\r\\x1c-\\x1f ]``);
* ``enum``/``const`` (string members), ``minLength``/``maxLength`` (code points) and a
  ``pattern`` that :func:`~ketenx.records.engine.regex.to_re2` translates: exact.

tests/unit/test_engine_attribution.py compares every decided verdict with the exact check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from .arrays import mask, strings
from .formats import bsn, date, iban, postcode

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pyarrow as pa

Verdict = tuple["np.ndarray[Any, Any]", "np.ndarray[Any, Any]"]  # (passes, decided)
Decider = Callable[["pa.Array"], Verdict]

_POSTCODE_SHAPE: Final = r"\A[0-9]{4} ?[A-Z]{2}\z"
_NL_IBAN_SHAPE: Final = r"\ANL[0-9]{2}[A-Z]{4}[0-9]{10}\z"
_NOT_EMAIL: Final = "@\\t\\n\\x{b}\\x{c}\\r\\x{1c}-\\x{1f} "  # "@" and Python's ASCII \s
_EMAIL_ASCII: Final = (
    rf"\A[^{_NOT_EMAIL}]+@[^{_NOT_EMAIL}.]+(?:\.[^{_NOT_EMAIL}.]+)+\z"
)  # fmt: skip


def decide_all(
    deciders: Sequence[tuple[str, Decider]], values: pa.Array
) -> tuple[list[tuple[str, np.ndarray[Any, Any]]], np.ndarray[Any, Any]]:
    """Per rule the cells its decider says break it, among the cells every decider decided;
    and the cells some decider left undecided (for the exact checks)."""
    import numpy as np

    undecided = np.zeros(len(values), dtype=bool)
    verdicts = []
    for rule, decide in deciders:
        ok, decided = decide(values)
        undecided |= ~decided
        verdicts.append((rule, ~ok & decided))
    return [(rule, broken & ~undecided) for rule, broken in verdicts], undecided


def _everywhere(kernel: Callable[[pa.Array], np.ndarray[Any, Any]]) -> Decider:
    def decide(cells: pa.Array) -> Verdict:
        import numpy as np

        return kernel(cells), np.ones(len(cells), dtype=bool)

    return decide


def _matches(cells: pa.Array, pattern: str) -> np.ndarray[Any, Any]:
    import pyarrow.compute as pc

    return mask(pc.match_substring_regex(cells, pattern))


def _postcode(cells: pa.Array) -> Verdict:
    ok = postcode(cells)
    return ok, ok | _matches(cells, _POSTCODE_SHAPE)


def _iban(cells: pa.Array) -> Verdict:
    ok = iban(cells)
    return ok, ok | _matches(cells, _NL_IBAN_SHAPE)


def _email(cells: pa.Array) -> Verdict:
    import pyarrow.compute as pc

    return _matches(cells, _EMAIL_ASCII), mask(pc.string_is_ascii(cells))


FORMAT_DECIDERS: Final[Mapping[str, Decider]] = {
    "nl-bsn": _everywhere(bsn),
    "date": _everywhere(date),
    "nl-postcode": _postcode,
    "iban": _iban,
    "email": _email,
}


def members(texts: Sequence[str]) -> Decider:
    """``enum``/``const`` over strings: a string passes when it is one of the string
    members (JSON equality: a string never equals a number, boolean or null)."""
    allowed = strings(sorted(set(texts)))

    def decide(cells: pa.Array) -> Verdict:
        import numpy as np
        import pyarrow.compute as pc

        return mask(pc.is_in(cells, value_set=allowed)), np.ones(len(cells), dtype=bool)

    return decide


def length(bound: int, *, at_least: bool) -> Decider:
    """``minLength``/``maxLength`` in code points, as JSON Schema counts them."""

    def decide(cells: pa.Array) -> Verdict:
        import numpy as np
        import pyarrow.compute as pc

        counted = pc.utf8_length(cells)
        sizes = np.frombuffer(counted.buffers()[1], np.int32)[
            counted.offset : counted.offset + len(cells)
        ]
        ok = sizes >= bound if at_least else sizes <= bound
        return ok, np.ones(len(cells), dtype=bool)

    return decide


def regex(re2: str) -> Decider:
    """A ``pattern`` translated to RE2 (same matches); undecided where RE2 refuses it."""

    def decide(cells: pa.Array) -> Verdict:
        import numpy as np
        import pyarrow as pa

        try:
            return _matches(cells, re2), np.ones(len(cells), dtype=bool)
        except pa.ArrowInvalid:  # RE2 refuses it (nested counts multiply)
            none = np.zeros(len(cells), dtype=bool)
            return none, none

    return decide


def fails_all(cells: pa.Array) -> Verdict:
    """A keyword no string passes (a ``type`` without ``string``)."""
    import numpy as np

    return np.zeros(len(cells), dtype=bool), np.ones(len(cells), dtype=bool)


def confirms(kernel: Callable[[pa.Array], np.ndarray[Any, Any]]) -> Decider:
    """A confirming kernel as a decider: decided where it confirms."""

    def decide(cells: pa.Array) -> Verdict:
        ok = kernel(cells)
        return ok, ok

    return decide


def undecided(cells: pa.Array) -> Verdict:
    import numpy as np

    none = np.zeros(len(cells), dtype=bool)
    return none, none


def string_decider(rule: str, schema: Mapping[str, Any]) -> Decider | None:
    """How keyword ``rule`` of a flat property ``schema`` is decided over strings; ``None``
    when every string passes it (bounds and ``multipleOf`` constrain numbers only)."""
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
        return None
    if rule in ("enum", "const"):
        listed = schema["enum"] if rule == "enum" else [schema["const"]]
        return members([m for m in listed if isinstance(m, str)])
    if rule in ("minLength", "maxLength"):
        return length(schema[rule], at_least=rule == "minLength")
    if rule == "pattern":
        from .regex import to_re2

        re2 = to_re2(schema["pattern"])
        return undecided if re2 is None else regex(re2)
    if rule in FORMAT_DECIDERS:
        return FORMAT_DECIDERS[rule]
    from .formats import FORMAT_KERNELS

    kernel = FORMAT_KERNELS.get(rule)
    return undecided if kernel is None else confirms(kernel)


__all__ = ["FORMAT_DECIDERS", "Decider", "Verdict", "string_decider"]
