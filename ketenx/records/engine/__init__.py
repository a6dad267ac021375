"""The columnar engine (issue 10 §1, §2): a contract's record schema compiled once into a
plan over columns, and CSV read as Arrow record batches.

Public surface, small on purpose (the risk gate and later scale-out reuse it):

* :func:`compile_plan` / :func:`plan_for` — the :class:`Plan` of a
  :class:`ketenx.records.validation.RecordSchema`;
* :meth:`Plan.screen` — which rows of a batch of Arrow string columns break a rule;
* :func:`explain` — per field, which path it takes (columnar, per distinct value, or precise:
  per record by the reference) and why.

pyarrow and numpy are imported only when a batch is read or screened, never by
``import ketenx.records.engine``: ``ketenx --version`` and ``contract lint`` stay light.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..validation import RecordSchema
from .plan import FieldPath, FieldProgram, Plan, compile_plan, plan_for


def explain(schema: RecordSchema | Mapping[str, Any]) -> list[FieldPath]:
    """Per field of a record schema, the path its values take through ``check`` and why."""
    compiled = schema if isinstance(schema, RecordSchema) else RecordSchema(schema)
    return plan_for(compiled).explain()


__all__ = ["FieldPath", "FieldProgram", "Plan", "compile_plan", "explain", "plan_for"]
