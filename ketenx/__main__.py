"""``python -m ketenx``."""

from ._cli import main

main()
