"""A line bought used or refurbished says so in the build file (``condition: used``), and check,
cost and the web editor price it at that condition's offer: a `plan --used` build file re-checked
at new prices (a $850 used RTX 3090 Ti showed "launch 2022-03-29") because the file lost it."""

from __future__ import annotations

from pathlib import Path

import pytest

import dlrig
from dlrig.app.plan import planner_available
from dlrig.buildfile import dump_build, load_build_text
from dlrig.catalog import open_catalog
from dlrig.catalog.offers import Condition, Offer, priced_catalog, shipped_offers
from dlrig.errors import BuildFileError
from dlrig.optimize.results import _priced

CARD = "NVIDIA GeForce RTX 4090 Founders Edition"
REST = """\
  cpu: Intel Core i9-10920X
  motherboard: ASUS WS X299 SAGE
  memory: Corsair Vengeance LPX 64GB (2x32GB) DDR4-3200
  storage: Samsung 990 PRO 2TB
  psu: Corsair HX1500i (2025)
  cooler: Noctua NH-U12DX i4
  case: Fractal Design Torrent
"""


def _build(gpu_line: str) -> dlrig.Build:
    text = f"name: t\nparts:\n  gpu: {gpu_line}\n{REST}"
    return load_build_text(text, priced_catalog(open_catalog()), "<t>")


def _newest_used(part_id: str) -> Offer:
    """The newest shipped used offer for the part (the snapshot is the source of truth)."""
    return max(
        (o for o in shipped_offers() if o.part == part_id and o.condition is Condition.USED),
        key=lambda o: o.date,
    )


def _used_offer(part_id: str) -> float:
    return _newest_used(part_id).price_usd


def test_a_used_line_is_priced_at_the_used_offer() -> None:
    new = _build(f"{{part: {CARD}, count: 2}}")
    used = _build(f"{{part: {CARD}, count: 2, condition: used}}")
    [new_item], [used_item] = new.items[dlrig.Category.GPU], used.items[dlrig.Category.GPU]
    assert used_item.condition == "used" and new_item.condition is None
    assert used_item.unit_price_usd == _used_offer("nvidia-rtx-4090-fe") < new_item.unit_price_usd  # type: ignore[operator]
    assert _priced(used_item.part)["price_kind"] == "used"
    assert new.price_usd - used.price_usd == pytest.approx(
        2 * (new_item.unit_price_usd - used_item.unit_price_usd)  # type: ignore[operator]
    )
    # written back as read
    assert "condition: used" in dump_build(used)
    assert "condition" not in dump_build(new)


def test_condition_new_is_the_default_and_case_is_ignored() -> None:
    plain = _build(CARD)
    assert _build(f"{{part: {CARD}, condition: NEW}}").price_usd == plain.price_usd


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (f"{{part: {CARD}, condition: usd}}", "condition must be new, used or refurbished"),
        (f"{{part: {CARD}, condition: 3}}", "condition must be new, used or refurbished"),
    ],
)
def test_a_bad_condition_is_refused_with_its_line(line: str, message: str) -> None:
    with pytest.raises(BuildFileError) as info:
        _build(line)
    assert info.value.line == 3 and message in info.value.message
    assert "parts.gpu.condition" in info.value.message


def test_a_condition_without_an_offer_or_price_leaves_the_part_unpriced() -> None:
    """No refurbished offer and no price_usd: the price is unknown (not the new price, and not
    a refusal: the build is still checked, and cost names the unpriced part)."""
    b = _build(f"{{part: {CARD}, condition: refurbished}}")
    [item] = b.items[dlrig.Category.GPU]
    assert item.condition == "refurbished" and item.unit_price_usd is None
    assert item.part.price_usd is None and item.part.price_date is None
    assert _build(CARD).items[dlrig.Category.GPU][0].unit_price_usd == 1599


def test_a_condition_without_an_offer_takes_the_lines_own_price() -> None:
    b = _build(f"{{part: {CARD}, condition: refurbished, price_usd: 1234}}")
    [item] = b.items[dlrig.Category.GPU]
    assert item.unit_price_usd == 1234 and item.condition == "refurbished"
    assert item.part.price_date is None  # not the new price's date: the user's own price


@pytest.mark.skipif(not planner_available(), reason="the planner (ortools) is absent")
def test_a_used_plan_rechecks_and_costs_at_the_price_it_was_planned_at(tmp_path: Path) -> None:
    result = dlrig.plan(
        4000,
        "llama-3.1-70b",
        task="inference",
        precision="int4",
        used=True,
        explain=False,
        time_limit=30,
    )
    assert result.best is not None
    written = dump_build(result.best.build)
    [gpu] = result.best.build.items[dlrig.Category.GPU]
    assert gpu.condition == "used" and gpu.price_usd is None  # the condition, not a bare price
    path = tmp_path / "used.yaml"
    path.write_text(written, encoding="utf-8")
    checked = dlrig.check(path)
    assert checked.build.price_usd == pytest.approx(result.best.build.price_usd)
    [line] = checked.build.items[dlrig.Category.GPU]
    assert _priced(line.part)["price_kind"] == "used"
    cost = dlrig.estimate_cost(path).to_dict()
    assert cost["build"]["upfront_usd"] == pytest.approx(result.best.build.price_usd, abs=0.01)


def test_the_web_editor_keeps_the_condition_and_says_used() -> None:
    pytest.importorskip("fastapi")
    import re

    from fastapi.testclient import TestClient

    from dlrig.web.app import create_app

    text = f"name: t\nparts:\n  gpu: {{part: {CARD}, count: 2, condition: used}}\n{REST}"
    answer = TestClient(create_app()).post("/api/editor", json={"build": text, "op": "inc:gpu:0"})
    assert answer.status_code == 200, answer.text
    assert f"gpu: {{part: {CARD}, count: 3, condition: used}}" in answer.json()["yaml"]
    panel = " ".join(re.sub(r"<[^>]+>", " ", answer.json()["panel_html"]).split())
    offer = _newest_used("nvidia-rtx-4090-fe")
    assert f"${3 * offer.price_usd:,.0f} (used {offer.date.isoformat()})" in panel


def test_a_used_catalog_part_with_overrides_is_priced_at_its_used_offer() -> None:
    # {part: X, with: {...}, condition: used} kept X's new price under a "used" label
    b = _build(f"{{part: {CARD}, with: {{length_mm: 305}}, condition: used}}")
    [item] = b.items[dlrig.Category.GPU]
    assert item.part.length_mm == 305  # type: ignore[attr-defined]
    assert item.unit_price_usd == _used_offer("nvidia-rtx-4090-fe")
    assert _priced(item.part)["price_kind"] == "used"
    assert "condition: used" in dump_build(b) and "length_mm: 305" in dump_build(b)


def test_a_renamed_used_part_says_used_in_the_check_table() -> None:
    """A renamed part ({with: {name: ...}}) is another product with no offer of its own: its
    condition: used was dropped without a word (the table showed the line's price as a plain
    one, or nothing). It is priced by the line's price_usd and the priced column says used."""
    from dlrig.cli.output import line_price_note, price_note

    renamed = f"{{part: {CARD}, with: {{name: My 4090}}, condition: used"
    [paid] = _build(renamed + ", price_usd: 900}").items[dlrig.Category.GPU]
    assert paid.condition == "used" and paid.unit_price_usd == 900
    assert line_price_note(paid) == "your used price"
    [unpaid] = _build(renamed + "}").items[dlrig.Category.GPU]
    assert unpaid.unit_price_usd is None
    assert line_price_note(unpaid) == "used, no price (give price_usd)"
    # a line's own price on a used catalog part is the user's, not the offer's date
    [own] = _build(f"{{part: {CARD}, condition: used, price_usd: 1000}}").items[dlrig.Category.GPU]
    assert line_price_note(own) == "your used price"
    [offer] = _build(f"{{part: {CARD}, condition: used}}").items[dlrig.Category.GPU]
    assert line_price_note(offer) == f"used {_newest_used('nvidia-rtx-4090-fe').date.isoformat()}"
    [new] = _build(CARD).items[dlrig.Category.GPU]
    assert line_price_note(new) == price_note(new.part) != ""  # the catalog price's note
