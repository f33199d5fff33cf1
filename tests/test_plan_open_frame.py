"""Open-frame rigs on risers, and the used RTX 3090 offer they are priced at (issue 14).

The used RTX 3090 price in the shipped offers is the source's price of the chip ("a used RTX
3090", BestLLMfor 2026-05-16), so it is a chip offer for the open-air partner cards; the
Founders Edition keeps its own, blower and liquid-cooled cards get none.
"""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from dlrig.catalog import open_catalog
from dlrig.catalog.offers import Condition, Offer, apply_offers, offers_by_part, shipped_offers

USED = frozenset({Condition.NEW, Condition.USED})


def _used_prices() -> dict[str, float | None]:
    cat = apply_offers(open_catalog(), shipped_offers(), USED)
    return {p.id: p.price_usd for p in cat.parts() if getattr(p, "chip", None) == "rtx-3090"}


def test_chip_offer_prices_the_open_air_partner_cards() -> None:
    prices = _used_prices()
    assert prices["zotac-rtx-3090-trinity-oc"] == 750
    assert prices["gigabyte-rtx-3090-eagle-oc"] == 750
    # the card's own offer (the source's FE figure) beats the chip's of the same date
    assert prices["nvidia-rtx-3090-fe"] == 850
    # blower cards trade apart: their new price stays (or none)
    assert prices["gigabyte-rtx-3090-turbo"] == 1550
    assert prices["asus-turbo-rtx-3090"] is None


def test_a_newer_chip_offer_beats_an_older_card_offer() -> None:
    cat = open_catalog()
    old = Offer(
        part="nvidia-rtx-3090-fe",
        price_usd=900,
        date=dt.date(2026, 1, 1),
        condition=Condition.USED,
        source="t",
    )
    newer = Offer(
        chip="rtx-3090",
        price_usd=700,
        date=dt.date(2026, 6, 1),
        condition=Condition.USED,
        source="t",
    )
    older = newer.model_copy(update={"date": dt.date(2025, 6, 1)})
    assert offers_by_part(cat, [old, newer])["nvidia-rtx-3090-fe"] == [old, newer]
    assert offers_by_part(cat, [old, older])["nvidia-rtx-3090-fe"] == [old]
    # without cooling the chip offer reaches the blower cards too
    assert "gigabyte-rtx-3090-turbo" in offers_by_part(cat, [newer])


def test_cooling_narrows_only_a_chip_offer() -> None:
    with pytest.raises(ValidationError):
        Offer(
            part="nvidia-rtx-3090-fe",
            cooling="open-air",
            price_usd=700,
            date=dt.date(2026, 6, 1),
            source="t",
        )
