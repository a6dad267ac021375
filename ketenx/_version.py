"""The one place the version of ketenx is written.

The build backend reads it into the package metadata (``[tool.hatch.version]`` in
``pyproject.toml``), and ``ketenx.__version__`` and ``ketenx --version`` import it, so that
``importlib.metadata.version("ketenx")`` and both of those agree (tests/unit/test_habits.py
checks it). A literal rather than a metadata look-up keeps ``ketenx --version`` fast.
"""

from __future__ import annotations

__version__ = "0.1.0"
