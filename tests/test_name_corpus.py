"""The name corpus: retailer-style names resolve to the right part or to none, never a wrong one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dlrig.catalog import open_catalog
from dlrig.errors import PartNotFoundError
from dlrig.parts import Category

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "part_names.yaml").read_text())


def _outcome(text: str, category: str) -> str | None:
    try:
        return open_catalog(None).resolve(text, Category(category)).id
    except PartNotFoundError:  # AmbiguousPartError included: refused, with candidates
        return None


def test_corpus_is_large_and_mixed() -> None:
    assert len(CORPUS) >= 40
    assert sum(1 for c in CORPUS if c["expect"] is None) >= 15
    assert {c["category"] for c in CORPUS} == {c.value for c in Category}


@pytest.mark.parametrize("case", CORPUS, ids=[c["text"][:40] for c in CORPUS])
def test_name_resolves_to_the_right_part_or_none(case: dict[str, Any]) -> None:
    assert _outcome(case["text"], case["category"]) == case["expect"]
