"""Parquet for the commands that read columns without checking them: the privacy gates
(``ketenx risk``, ``ketenx scan``) and ``ketenx contract init``.

The file is read as :mod:`ketenx.records.engine.parquet` reads it for ``check``: with the
same limits (magic bytes, footer, columns, row groups, dictionary expansion, value length),
row group by row group, only the columns asked for, each value as its JSON value (a date
column as ``YYYY-MM-DD`` text, a decimal as the number its text is). What is not read is
refused, never cast: a column of a type ketenx does not read, or, for the gates, a column
whose type the field cannot hold (an integer column for a ``string`` field: ``ketenx check``
names the records). Every refusal is a :class:`~ketenx.records.readers.Malformed` with the
rule ``parquet`` and a message that names a column by its position, never a value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any, Final

from ..readers import BATCH_ROWS, Malformed
from ..validation import MISSING, RecordSchema, declared_types
from .parquet import _READ_AS, ParquetSource, _build, piece_arrays

#: The JSON types the values of a column of each kind have.
_HOLDS: Final = {
    "string": {"string"},
    "date": {"string"},
    "integer": {"integer", "number"},
    "number": {"number", "integer"},
    "number32": {"number", "integer"},
    "decimal": {"number", "integer"},
    "boolean": {"boolean"},
    "null": {"null"},
}


def _refused(message: str) -> Malformed:
    return Malformed(0, "parquet", f"the file cannot be read as Parquet: {message}")


def _positions(source: ParquetSource, names: Sequence[str]) -> dict[str, int]:
    """Where each of ``names`` the file has is (a name given twice: its first column),
    each of a kind ketenx reads."""
    positions: dict[str, int] = {}
    for name in names:
        if name in source.header and name not in positions:
            pos = source.header.index(name)
            if source.kinds[pos] not in _READ_AS:
                raise _refused(
                    f"column {pos + 1} is a Parquet {source.kinds[pos]} column, which ketenx "
                    "does not read: export it as a string (docs/formats.md, Parquet)"
                )
            positions[name] = pos
    return positions


def _batches(
    source: ParquetSource, positions: dict[str, int], empties: Mapping[str, object]
) -> Iterator[tuple[dict[str, Sequence[Any]], int]]:
    order = sorted(positions, key=positions.__getitem__)
    kinds = {name: source.kinds[positions[name]] for name in order}
    for _, piece in source.batches([positions[n] for n in order], BATCH_ROWS):
        columns, _ = _build(piece_arrays(piece, order), kinds, empties)
        yield columns, piece.num_rows


def parquet_columns(
    stream: IO[bytes], schema: RecordSchema, names: Sequence[str]
) -> Iterator[tuple[dict[str, Sequence[Any]], int]]:
    """Batches of the JSON-valued columns ``names`` (those the file has) for the privacy
    gates; a null is null where the field allows it, else absent (as an empty CSV cell).
    A column whose type the field cannot hold is refused (see the module's text)."""
    source = ParquetSource(stream)
    positions = _positions(source, names)
    props = schema.schema.get("properties", {})
    for name, pos in positions.items():
        declared = declared_types(props.get(name, {}), schema.schema)
        kind = source.kinds[pos]
        if declared is not None and kind != "null" and not _HOLDS[kind] & declared:
            raise _refused(
                f"column {pos + 1} is a Parquet {kind} column for a field of another type "
                "(ketenx check names the records)"
            )
    empties = {name: None if schema.allows_null(name) else MISSING for name in positions}
    yield from _batches(source, positions, empties)


def parquet_records(
    stream: IO[bytes],
) -> tuple[list[str], Iterator[list[dict[str, Any]]]]:
    """The column names (a name given twice: once) and the batches of the records of a
    Parquet file as JSON objects, every column, a null as ``null`` (as an empty CSV cell
    it makes the drafted field nullable), for ``contract init``."""
    source = ParquetSource(stream)
    positions = _positions(source, source.header)

    def batches() -> Iterator[list[dict[str, Any]]]:
        for columns, n in _batches(source, positions, dict.fromkeys(positions)):
            items = list(columns.items())
            yield [{name: values[i] for name, values in items} for i in range(n)]

    return list(positions), batches()


__all__ = ["parquet_columns", "parquet_records"]
