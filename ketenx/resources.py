"""The JSON Schemas shipped with ketenx (``schemas/`` in the source tree)."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """Load ``schemas/<name>`` (for example ``contract.schema.json``)."""
    text = resources.files("ketenx").joinpath("_schemas").joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
