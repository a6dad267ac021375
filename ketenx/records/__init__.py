"""The data plane: records as they are read, checked and written — no contract model, no
keys, no clock. Readers (:mod:`.readers`: CSV, JSON Lines, JSON arrays, strict and
value-free in their refusals), writers (:mod:`.writers`: CSV safety, the hashing writer),
the formats ketenx asserts (:mod:`.formats`), the record schema and its reference validator
(:mod:`.validation`), the keyed-value normalisation (:mod:`.normalise`), the checker
(:mod:`.check`) with its columnar engine (:mod:`.engine`), and the reports
(:mod:`.reports`). Imports only the foundation modules and :mod:`ketenx.storage` (a test
checks the direction)."""
