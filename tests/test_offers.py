"""Dated price offers: choosing the offer a buyer would take, price files, the price book."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dlrig.catalog.builtin import builtin_catalog
from dlrig.catalog.offers import (
    Condition,
    Offer,
    PriceBook,
    apply_offers,
    match_rows,
    parse_conditions,
    price_summary,
    read_price_rows,
    shipped_offers,
)
from dlrig.errors import InputError

NEW = frozenset({Condition.NEW})
NEW_USED = frozenset({Condition.NEW, Condition.USED})
TODAY = dt.date(2026, 12, 3)


def _offer(part: str, usd: float, date: str, cond: str = "used") -> Offer:
    return Offer(
        part=part,
        price_usd=usd,
        date=dt.date.fromisoformat(date),
        condition=Condition(cond),
        source="test",
    )


def test_shipped_offers_are_sourced_and_name_catalog_parts() -> None:
    cat = builtin_catalog()
    offers = shipped_offers()
    assert len(offers) >= 5
    for o in offers:
        assert o.url and o.url.startswith("https://"), o
        assert o.part in cat or o.chip in {c.id for c in cat.chips}, o


def test_used_offers_only_count_when_used_is_allowed() -> None:
    cat = builtin_catalog()
    fe = cat.get("nvidia-rtx-3090-fe")
    assert fe.price_usd == 1499 and fe.price_source == "launch MSRP"
    new_only = apply_offers(cat, shipped_offers(), NEW)
    assert new_only.get("nvidia-rtx-3090-fe").price_usd == 1499
    with_used = apply_offers(cat, shipped_offers(), NEW_USED)
    card = with_used.get("nvidia-rtx-3090-fe")
    assert card.price_usd == 850
    assert card.price_date == dt.date(2026, 5, 16)
    assert card.price_source is not None and card.price_source.startswith("used: ")
    assert with_used.version != cat.version


def test_newest_offer_per_condition_then_cheapest() -> None:
    cat = builtin_catalog()
    offers = [
        _offer("nvidia-rtx-4090-fe", 900, "2024-01-01"),  # old used price: history only
        _offer("nvidia-rtx-4090-fe", 1300, "2026-10-01"),  # current used price
        _offer("nvidia-rtx-4090-fe", 2400, "2026-11-01", "new"),  # current new price
    ]
    got = apply_offers(cat, offers, NEW_USED).get("nvidia-rtx-4090-fe")
    assert (got.price_usd, got.price_date) == (1300, dt.date(2026, 10, 1))
    new = apply_offers(cat, offers, NEW).get("nvidia-rtx-4090-fe")
    assert (new.price_usd, new.price_date) == (2400, dt.date(2026, 11, 1))


def test_used_only_leaves_parts_without_used_offers_unpriced() -> None:
    cat = builtin_catalog()
    got = apply_offers(cat, shipped_offers(), frozenset({Condition.USED}))
    assert got.get("nvidia-rtx-a6000").price_usd == 2800
    assert got.get("nvidia-rtx-5090-fe").price_usd is None


def test_price_summary_flags_stale_and_launch_prices() -> None:
    cat = builtin_catalog()
    parts = [cat.get("nvidia-rtx-3090-fe"), cat.get("nvidia-titan-v")]
    s = price_summary(parts, today=TODAY)
    assert s.oldest is not None and s.oldest.year == 2017
    assert set(s.stale) == {"nvidia-rtx-3090-fe", "nvidia-titan-v"}
    assert "nvidia-titan-v" in s.launch_prices
    line = s.line()
    assert line is not None and "older than 6 months" in line and "launch MSRP" in line


def test_conditions_parse_and_refuse_unknown_words() -> None:
    assert parse_conditions("new, used") == NEW_USED
    with pytest.raises(InputError, match="unknown condition 'mint'"):
        parse_conditions("new,mint")


CSV = """part,price,currency,date,condition,source,url
NVIDIA GeForce RTX 3090 Founders Edition,$799,USD,2026-11-20,used,my local shop,
RTX A6000,"2,650",USD,2026-11-02,used,eBay sold listing,https://example.org/a6000
RTX 3090,700,USD,2026-11-01,used,forum,
Acme Quantum GPU 9000,500,USD,2026-11-01,new,,
NVIDIA GeForce RTX 4090 Founders Edition,1999,EUR,2026-11-01,new,,
NVIDIA GeForce RTX 4090 Founders Edition,-5,USD,2026-11-01,new,,
NVIDIA GeForce RTX 4090 Founders Edition,1999,USD,2026-13-45,new,,
"""


def test_price_file_rows_match_or_are_reported_with_their_line() -> None:
    rows, problems = read_price_rows(CSV, "quotes.csv", today=TODAY)
    assert [p.line for p in problems] == [6, 7, 8]
    reasons = " | ".join(p.reason for p in problems)
    assert "EUR is not supported" in reasons and "outside" in reasons
    assert "not YYYY-MM-DD" in reasons
    report = match_rows(builtin_catalog(), rows)
    assert [o.part or o.chip for o in report.offers] == [
        "nvidia-rtx-3090-fe",
        "nvidia-rtx-a6000",
        "rtx-3090",
    ]
    assert report.offers[1].price_usd == 2650
    assert [p.line for p in report.problems] == [5]


def test_price_file_without_a_price_column_is_bad_input() -> None:
    with pytest.raises(InputError, match=r"needs a part .* and a price column"):
        read_price_rows("part,cost\nRTX 3090,700\n", "x.csv")
    with pytest.raises(InputError, match="not valid JSON"):
        read_price_rows('[{"part": "RTX 3090", "price": NaN}]', "x.json")


def test_price_book_keeps_history_and_ignores_duplicates(tmp_path: Path) -> None:
    book = PriceBook(tmp_path / "prices.sqlite")
    assert book.offers() == []
    a = _offer("nvidia-rtx-3090-fe", 800, "2026-10-01")
    b = _offer("nvidia-rtx-3090-fe", 780, "2026-11-01")
    assert book.add([a, b]) == 2
    assert book.add([a]) == 0
    assert [o.price_usd for o in PriceBook(tmp_path / "prices.sqlite").offers()] == [800, 780]


def test_damaged_price_book_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "prices.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="not a dlrig price book"):
        PriceBook(path).offers()


def test_every_unpriced_builtin_part_is_marked_with_a_reason() -> None:
    """Every built-in part without a new price has a reason in offers.yaml, and no mark names a
    part that has a price (a mark goes when its part gets one)."""
    from dlrig.catalog.offers import Availability, shipped_unavailable

    cat = builtin_catalog()
    priced = apply_offers(cat, shipped_offers(), NEW)
    marks = shipped_unavailable()
    unpriced = {p.id for p in priced.parts() if p.price_usd is None}
    assert unpriced == set(marks), (unpriced - set(marks), set(marks) - unpriced)
    assert {m.status for m in marks.values()} == set(Availability)
    for m in marks.values():
        assert m.reason and m.checked <= TODAY
        if m.status is Availability.NO_RETAIL_OFFER:  # that evidence is a price list's row
            assert m.url and "PCPartPicker" in (m.source or ""), m


def test_launch_prices_give_way_to_newer_sourced_offers() -> None:
    cat = apply_offers(builtin_catalog(), shipped_offers(), NEW)
    i5 = cat.get("intel-core-i5-14600k")  # Intel RCP $319 (2023) → PCPartPicker 2025-07-23
    assert (i5.price_usd, i5.price_date) == (189.99, dt.date(2025, 7, 23))
    pro = cat.get("nvidia-rtx-pro-6000-blackwell")  # no catalog price: a dated retail offer
    assert (pro.price_usd, pro.price_date) == (8565, dt.date(2026, 4, 6))


@pytest.mark.datasets
def test_offers_from_the_pcpartpicker_scrape_match_its_rows(datasets_dir: Path) -> None:
    """Each offer citing docyx/pc-part-dataset names its row; the price is that row's."""
    import json
    import re

    root = datasets_dir / "pcpartpicker_docyx"
    cited = [o for o in shipped_offers() if "docyx" in o.source]
    assert len(cited) >= 15
    for o in cited:
        m = re.search(r'docyx (\S+\.jsonl) row "([^"]+)"', o.note or "")
        assert m, o
        rows = [json.loads(line) for line in (root / m.group(1)).open(encoding="utf-8")]
        prices = {r["price"] for r in rows if r["name"] == m.group(2)}
        assert o.price_usd in prices, (o.part, o.price_usd, prices)
        assert o.date == dt.date(2025, 7, 23)


def test_dlrig_today_pins_the_age_of_prices(monkeypatch: pytest.MonkeyPatch) -> None:
    from dlrig.asof import today

    part = builtin_catalog().get("samsung-990-pro-2tb")  # priced 2025-07-23
    monkeypatch.setenv("DLRIG_TODAY", "2025-08-01")
    assert today() == dt.date(2025, 8, 1)
    assert price_summary([part]).stale == ()
    monkeypatch.setenv("DLRIG_TODAY", "2026-12-03")
    assert price_summary([part]).stale == ("samsung-990-pro-2tb",)
    monkeypatch.setenv("DLRIG_TODAY", "yesterday")
    with pytest.raises(InputError, match="DLRIG_TODAY"):
        today()
