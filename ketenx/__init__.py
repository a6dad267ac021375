"""ketenx: prepare a dataset for the hop from one government agency to the next.

Schema-check it against the exchange contract, pseudonymise and minimise it for one
recipient and purpose, and sign and seal the delivery.
"""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
