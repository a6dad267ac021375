"""Fixtures of the library tests; the helpers are in tests/api/agencies.py and tests/helpers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.agencies import Agencies, make_agencies


@pytest.fixture
def agencies(tmp_path: Path) -> Agencies:
    return make_agencies(tmp_path)
