"""ketenx: prepare a dataset for the hop from one government agency to the next.

Schema-check it against the exchange contract, pseudonymise and minimise it for one
recipient and purpose, and sign and seal the delivery.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
