"""Deliveries between parties: DSSE envelopes and the in-toto predicate (:mod:`.dsse`,
:mod:`.attest`), the partner registry (:mod:`.partners`), age encryption (:mod:`.seal`),
producing and re-identifying a delivery with its sidecar metadata (:mod:`.delivery`), the
sealed bundle of ``pack``/``unpack`` (:mod:`.bundle`), and the result dataclasses the verbs
return (:mod:`.results`). The top of the library below :mod:`ketenx._api` (a test checks the
direction)."""
