"""Column kernels for ketenx's formats: each *confirms* values (True only where the format's
own check in :mod:`ketenx.records.formats` is True); values a kernel leaves unconfirmed are decided
by that check, one distinct value at a time (an IBAN of another country than the Netherlands:
python-stdnum decides)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ..formats import OIN_PREFIXES
from .arrays import bools, mask

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pyarrow as pa

Kernel = Callable[["pa.Array"], "np.ndarray[Any, Any]"]

_BSN_WEIGHTS: Final = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_DATE: Final = r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\z"
# Hours, minutes and seconds in range (a leap second is left to the exact check).
_DATETIME: Final = (
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])\z"
)
# _POSTCODE_FAST of ketenx.records.formats without its look-ahead (RE2 has none): SA, SD, SS apart.
_POSTCODE: Final = r"\A[1-9][0-9]{3} ?[A-Z]{2}\z"
_POSTCODE_EXCLUDED: Final = r"\A[0-9]{4} ?S[ADS]\z"
# formats.is_email over printable ASCII only (no space or control character, which Python's
# \s may match): a confirmed value is one is_email accepts.
_EMAIL: Final = (
    r"\A[\x{21}-\x{3f}\x{41}-\x{7e}]+@[\x{21}-\x{2d}\x{2f}-\x{3f}\x{41}-\x{7e}]+"
    r"(?:\.[\x{21}-\x{2d}\x{2f}-\x{3f}\x{41}-\x{7e}]+)+\z"
)
_OIN: Final = r"\A(?:" + "|".join(sorted(OIN_PREFIXES)) + r")[0-9A-Z]{9}000\z"


_mask = mask


def _matches(cells: pa.Array, pattern: str) -> np.ndarray[Any, Any]:
    import pyarrow.compute as pc

    return _mask(pc.match_substring_regex(cells, pattern))


def fixed_width(cells: pa.Array, width: int) -> np.ndarray[Any, Any]:
    """The UTF-8 bytes of cells that all have ``width`` bytes, as an (n, width) uint8 view."""
    import numpy as np
    import pyarrow as pa

    cells = pa.concat_arrays([cells]) if cells.offset else cells
    offsets = np.frombuffer(cells.buffers()[1], dtype=np.int32)[: len(cells) + 1]
    data = np.frombuffer(cells.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(len(cells), width)


def _picked(
    cells: pa.Array, shape: np.ndarray[Any, Any], width: int, test: Callable[[Any], Any]
) -> np.ndarray[Any, Any]:
    """``test`` over the fixed-width digits of the cells of the right ``shape``."""

    out = shape.copy()
    if shape.any():
        view = fixed_width(cells.filter(bools(shape)), width)
        out[shape] = test(view)
    return out


def bsn(cells: pa.Array) -> np.ndarray[Any, Any]:
    """Nine ASCII digits, the 11-proef (weights 9…2, −1) and not 000000000."""
    import numpy as np

    def eleven(view: Any) -> Any:
        digits = view.astype(np.int64) - 48
        total = digits @ np.asarray(_BSN_WEIGHTS, dtype=np.int64)
        return (total % 11 == 0) & (digits.any(axis=1))

    return _picked(cells, _matches(cells, r"\A[0-9]{9}\z"), 9, eleven)


def _real_dates(view: Any) -> Any:
    """Rows of an (n, ≥10) byte view ``YYYY-MM-DD…`` that name a calendar day (year ≥ 1)."""
    import numpy as np

    d = view[:, :10].astype(np.int64) - 48
    year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
    month = d[:, 5] * 10 + d[:, 6]
    day = d[:, 8] * 10 + d[:, 9]
    return calendar_days(year, month, day)


def calendar_days(year: Any, month: Any, day: Any) -> Any:
    """Where numpy arrays ``year``, ``month``, ``day`` name a calendar day (proleptic
    Gregorian, year ≥ 1, as :mod:`datetime` reads it)."""
    import numpy as np

    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    lengths = np.asarray([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
    good_month = (month >= 1) & (month <= 12)
    last = lengths[np.where(good_month, month, 0)] + ((month == 2) & leap)
    return (year >= 1) & good_month & (day >= 1) & (day <= last)


def date(cells: pa.Array) -> np.ndarray[Any, Any]:
    return _picked(cells, _matches(cells, _DATE), 10, _real_dates)


def datetime(cells: pa.Array) -> np.ndarray[Any, Any]:
    import pyarrow.compute as pc

    shape = _matches(cells, _DATETIME)
    heads = pc.utf8_slice_codeunits(cells, 0, 10)
    return _picked(heads, shape, 10, _real_dates)


def postcode(cells: pa.Array) -> np.ndarray[Any, Any]:
    good: np.ndarray[Any, Any] = _matches(cells, _POSTCODE) & ~_matches(cells, _POSTCODE_EXCLUDED)
    return good


def email(cells: pa.Array) -> np.ndarray[Any, Any]:
    return _matches(cells, _EMAIL)


def oin(cells: pa.Array) -> np.ndarray[Any, Any]:
    return _matches(cells, _OIN)


# A Dutch IBAN (python-stdnum: "NL" + 2 check digits + bban 4!a10!n, no country module).
_NL_IBAN: Final = r"\ANL[0-9]{2}[A-Z]{4}[0-9]{10}\z"
_IBAN_ORDER: Final = (*range(4, 18), 0, 1, 2, 3)  # the bban first, then country and check
_IBAN_LETTERS: Final = frozenset((0, 1, 4, 5, 6, 7))


def iban(cells: pa.Array) -> np.ndarray[Any, Any]:
    """Dutch IBANs in their compact form with a good ISO 7064 mod 97-10 check (others are
    left to python-stdnum)."""
    import numpy as np

    def mod97(view: Any) -> Any:
        rest = np.zeros(len(view), dtype=np.int64)
        for p in _IBAN_ORDER:
            if p in _IBAN_LETTERS:
                rest = (rest * 100 + (view[:, p].astype(np.int64) - 55)) % 97
            else:
                rest = (rest * 10 + (view[:, p].astype(np.int64) - 48)) % 97
        return rest == 1

    return _picked(cells, _matches(cells, _NL_IBAN), 18, mod97)


FORMAT_KERNELS: Mapping[str, Kernel] = {
    "iban": iban,
    "nl-bsn": bsn,
    "date": date,
    "date-time": datetime,
    "nl-postcode": postcode,
    "email": email,
    "oin": oin,
}
