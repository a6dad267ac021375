"""The example partner registry in examples/ and docs/partners.md is complete and valid."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.helpers import ROOT, Result

EXAMPLE = ROOT / "examples" / "partners.yaml"


def test_example_registry_lints(run: Callable[..., Result]) -> None:
    done = run("partners", "lint", EXAMPLE)
    assert done.code == 0, done.err
    assert done.out.strip() == f"{EXAMPLE}: OK"


def test_docs_show_the_example_as_it_is() -> None:
    text = (ROOT / "docs" / "partners.md").read_text()
    (block,) = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    assert block == EXAMPLE.read_text()


def test_example_loads_with_every_kind_of_key() -> None:
    from ketenx.exchange.partners import load_registry

    registry = load_registry(EXAMPLE)
    sender, recipient = registry.partners
    assert len(sender.signing_keys) == 3
    assert any(k.revoked for k in sender.signing_keys)
    assert any(k.valid_until is not None for k in sender.signing_keys)
    assert len(registry.age_recipients(recipient.oin)) == 2
