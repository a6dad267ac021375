"""The verbs of the public library API (``import ketenx``), behind the lazy exports of
:mod:`ketenx`.

* :mod:`ketenx.exchange.results` — the result dataclasses the verbs return (standard library
  only: importing them loads nothing heavy);
* :mod:`ketenx._api.verbs` — the verbs themselves, each the one flow its CLI command wires
  options to.

A few refusals are private subclasses of the public errors (``delivery.SecretNeeded``,
``bundle.TooEarly``, ``verbs.NoSender``, …): their message names what the library was given,
and :mod:`ketenx._cli._wording` says them in the command line's terms (its options).

Everything here is private: use the names :mod:`ketenx` exports (``docs/library.md``).
"""
