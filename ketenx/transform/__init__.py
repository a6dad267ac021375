"""What a contract does to records on their way out: the treatments (:mod:`.treatments`),
the kx1 recipe of keyed pseudonyms and encryption (:mod:`.pseudonym`), the one streaming
pass that checks, treats, measures and writes (:mod:`.pipeline`, with helper processes in
:mod:`.workers`), and the privacy gates that measure re-identification risk and scan for
leaks in that same pass (:mod:`.gates`, :mod:`.risk`, :mod:`.fastrisk`, :mod:`.scan`,
:mod:`.privacy_reports`). Builds on :mod:`ketenx.contract` and :mod:`ketenx.records` (a test
checks the direction)."""
