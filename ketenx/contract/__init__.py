"""The exchange contract: its model and strict loading (:mod:`.model`), lint, and a draft
contract from an export (:mod:`.draft`). Builds on :mod:`ketenx.records` (the record schema
a contract's input schema compiles to) and never on the layers above (a test checks the
direction)."""
