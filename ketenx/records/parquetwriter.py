"""Writing treated records as Parquet (docs/formats.md, "Parquet").

The Arrow schema is derived from the JSON schema of the delivered record: one column per
output field, ``string`` → ``string``, ``integer`` → ``int64``, ``number`` → ``double``,
``boolean`` → ``bool``; a field that may be null or absent is nullable (absent is written as
null). A field of several types, or of an object or array, is refused. Records are buffered
into row groups of :data:`ROW_GROUP_ROWS`; the bytes depend only on the records and the
pyarrow version (no timestamps in the file), so the same input gives the same file.

:func:`copy_kept` writes a Parquet file ketenx wrote without some of its records (the
privacy gate's suppression, ``docs/privacy.md`` §5): row group by row group, through the same
writer, so the same records in give the same bytes out and memory holds one row group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, Final

from ..errors import OperationalError, UsageError
from .validation import MISSING, declared_types

ROW_GROUP_ROWS: Final = 65_536
_ARROW: Final = {"string": "string", "integer": "int64", "number": "float64", "boolean": "bool_"}


class ParquetTypes(UsageError):
    """A field of the delivered record has no single Parquet type."""

    def __init__(self, field: str) -> None:
        super().__init__(
            f"field /{field} has no single Parquet column type (several types, or an object "
            "or array): deliver this contract as JSON Lines"
        )
        self.field = field


def arrow_schema(schema: Mapping[str, Any], names: Sequence[str]) -> Any:
    """The Arrow schema of the output columns ``names`` of the record schema ``schema``."""
    import pyarrow as pa

    props = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fields = []
    for name in names:
        types = declared_types(props.get(name, {}), schema)
        if types is None:
            raise ParquetTypes(name)
        kinds = types - {"null"}
        if kinds == {"integer", "number"}:
            kinds = frozenset({"number"})
        if len(kinds) != 1 or next(iter(kinds)) not in _ARROW:
            raise ParquetTypes(name)
        arrow = getattr(pa, _ARROW[next(iter(kinds))])()
        nullable = "null" in types or name not in required
        fields.append(pa.field(name, arrow, nullable=nullable))
    return pa.schema(fields)


class ParquetRecordWriter:
    """Writes batches of output columns (name → values) to a binary stream as Parquet; the
    interface of :class:`ketenx.records.writers.RecordWriter`."""

    def __init__(self, sink: IO[bytes], names: Sequence[str], schema: Any) -> None:
        self.names = list(names)
        self.records = 0
        self._schema = schema
        self._sink = _Positioned(sink)
        self._pending: list[Any] = []
        self._rows = 0
        self._writer: Any = None

    def write(self, columns: Mapping[str, Sequence[Any]], n: int) -> None:
        if n == 0:
            return
        import pyarrow as pa

        arrays = []
        for field in self._schema:
            col = columns[field.name]
            if MISSING in col:
                col = [None if v is MISSING else v for v in col]
            if pa.types.is_floating(field.type):
                col = [float(v) if type(v) is int else v for v in col]
            try:
                arrays.append(pa.array(col, type=field.type))
            except (pa.ArrowException, TypeError, ValueError, OverflowError):
                raise OperationalError(
                    f"a value of field /{field.name} does not fit its Parquet column type"
                ) from None
        self.write_table(pa.Table.from_arrays(arrays, schema=self._schema))

    def write_table(self, table: Any) -> None:
        """Write an Arrow table of this writer's schema (its records after those before)."""
        n = table.num_rows
        if n == 0:
            return
        self._pending.append(table)
        self._rows += n
        self.records += n
        if self._rows >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self._sink,
                self._schema,
                compression="zstd",
                write_statistics=False,  # no per-column minimum or maximum in the footer
                store_schema=False,
            )
        if self._pending:
            table = pa.concat_tables(self._pending)
            self._writer.write_table(table, row_group_size=max(1, table.num_rows))
        self._pending = []
        self._rows = 0

    def close(self) -> None:
        self._flush()
        self._writer.close()
        self._sink.flush()


def copy_kept(
    source: IO[bytes], sink: IO[bytes], keep: Callable[[int], Any], schema: Any = None
) -> int:
    """Write the Parquet file ``source`` (one :class:`ParquetRecordWriter` wrote) into
    ``sink`` without the records ``keep`` leaves out, and return the records written.

    ``keep(n)`` gives the keep mask (a boolean array) of the next ``n`` records of the file;
    it is asked once per row group, in order. ``schema``: the writer's Arrow schema (by
    default the file's own). One row group is in memory at a time.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    file = pq.ParquetFile(source)
    schema = file.schema_arrow if schema is None else schema
    writer = ParquetRecordWriter(sink, schema.names, schema)
    for group in range(file.num_row_groups):
        table = file.read_row_group(group)
        writer.write_table(pc.filter(table, pa.array(keep(table.num_rows), type=pa.bool_())))
    writer.close()
    return writer.records


def make_writer(
    sink: IO[bytes],
    fmt: str,
    names: Sequence[str],
    string_columns: frozenset[str],
    schema: Mapping[str, Any],
) -> Any:
    """The writer of ``fmt``: :class:`ParquetRecordWriter` for Parquet (its Arrow schema
    from the record schema ``schema``), else :class:`ketenx.records.writers.RecordWriter`."""
    from .writers import OUTPUT_FORMATS, RecordWriter

    if fmt == "parquet":
        return ParquetRecordWriter(sink, names, arrow_schema(schema, names))
    for known in OUTPUT_FORMATS:
        if fmt == known:
            return RecordWriter(sink, known, names, string_columns)
    raise UsageError(f"unknown output format {fmt!r}")


class _Positioned:
    """A write-only binary stream that knows its position (the Parquet writer asks)."""

    def __init__(self, sink: IO[bytes]) -> None:
        self._sink = sink
        self._at = 0
        self.closed = False

    def write(self, data: Any) -> int:
        n = self._sink.write(data)
        size = len(memoryview(data))
        self._at += size
        return n if n is not None else size

    def tell(self) -> int:
        return self._at

    def flush(self) -> None:
        self._sink.flush()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True  # the caller closes the sink
