"""The exchange contract: its strict document loading, shared with the partner registry
(:mod:`.document`), lint as one generator per rule (:mod:`.lint`), the model a linted
contract becomes (:mod:`.model`), and a draft contract from an export (:mod:`.draft`).
Builds on :mod:`ketenx.records` (the record schema a contract's input schema compiles to)
and never on the layers above (a test checks the direction)."""
