"""Arrow arrays from numpy masks and Python strings without ``pyarrow.array``: that call
imports pandas whenever it is installed (≈0.1 s, more than checking 100,000 rows costs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pyarrow as pa


def bools(mask: np.ndarray[Any, Any]) -> pa.Array:
    """A numpy boolean mask as an Arrow boolean array (no nulls)."""
    import numpy as np
    import pyarrow as pa

    bits = np.packbits(np.asarray(mask, dtype=bool), bitorder="little")
    return pa.BooleanArray.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(bits)])


def non_empty(
    cells: pa.Array, empty: np.ndarray[Any, Any], any_empty: bool
) -> tuple[np.ndarray[Any, Any] | None, pa.Array]:
    """The rows that are not empty (None: every row) and their cells, for a kernel that
    judges only the cells that hold a value."""
    import numpy as np

    if not any_empty:
        return None, cells
    return np.flatnonzero(~empty), cells.filter(bools(~empty))


def strings(values: Sequence[str]) -> pa.Array:
    """Python strings as an Arrow string array (no nulls); a lone surrogate raises
    ``UnicodeEncodeError``. The text is encoded once; for ASCII text the offsets are the
    lengths of the strings (C-level), else of each one's encoding."""
    import numpy as np
    import pyarrow as pa

    joined = "".join(values)
    data = joined.encode("utf-8")
    n = len(values)
    if len(data) == len(joined):
        sizes = np.fromiter(map(len, values), dtype=np.int64, count=n)
    else:
        sizes = np.fromiter((len(v.encode("utf-8")) for v in values), dtype=np.int64, count=n)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(sizes, out=offsets[1:])
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))


def whole(array: Any) -> Any:
    """A table column (or an array) as one Arrow array: a piece is read as one block, so
    its columns have one chunk, used as it is."""
    import pyarrow as pa

    if not isinstance(array, pa.ChunkedArray):
        return array
    return array.chunk(0) if array.num_chunks == 1 else array.combine_chunks()


def integers(array: Any) -> np.ndarray[Any, Any]:
    """An Arrow integer array without nulls (dictionary indices, positions) as a numpy
    array of its own width, without a copy."""
    import numpy as np

    array = whole(array)
    dtype = np.dtype(f"int{array.type.bit_width}")
    data = array.buffers()[1]
    return np.frombuffer(data, dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


def mask(array: Any) -> np.ndarray[Any, Any]:
    """An Arrow boolean array (or chunked array) as a numpy mask, null as False (read from
    its buffers: ``to_numpy`` would import pandas)."""
    import numpy as np

    array = whole(array)
    n, offset = len(array), array.offset
    validity, data = array.buffers()[:2]
    out = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")[offset : offset + n]
    if array.null_count and validity is not None:
        valid = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")
        out = out & valid[offset : offset + n]
    return out.astype(bool)


def floats(array: Any) -> np.ndarray[Any, Any]:
    """An Arrow float64 array without nulls as a numpy array."""
    import numpy as np

    array = whole(array)
    return np.frombuffer(array.buffers()[1], np.float64)[array.offset : array.offset + len(array)]


def lengths(array: Any) -> np.ndarray[Any, Any]:
    """The byte length of each value of an Arrow string array (from its offsets)."""
    import numpy as np

    array = whole(array)
    offsets = np.frombuffer(array.buffers()[1], np.int32)
    return np.diff(offsets[array.offset : array.offset + len(array) + 1])
