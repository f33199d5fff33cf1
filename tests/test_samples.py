"""The sample outputs in the README and docs are what their commands print (as of the pinned
date): regenerate them with `python -m dlrig.cli.samples` after changing an output."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("ortools")

from dlrig.cli.samples import regenerate, samples

ROOT = Path(__file__).resolve().parents[1]


def test_the_samples_exist() -> None:
    found = {(s.path.name, s.command.split()[1]) for s in samples(ROOT)}
    assert ("README.md", "plan") in found and ("README.md", "check") in found
    assert ("plan.md", "plan") in found and ("prices.md", "plan") in found


@pytest.mark.slow
def test_every_sample_is_what_its_command_prints() -> None:
    differs = regenerate(ROOT, check=True)
    assert not differs, "regenerate with `python -m dlrig.cli.samples`: " + "; ".join(differs)
