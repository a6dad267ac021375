"""``python -m ketenx``."""

from ketenx.cli import main

main()
