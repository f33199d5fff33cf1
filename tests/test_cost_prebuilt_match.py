"""Prebuilt systems are compared only with builds of a similar GPU count and class."""

from __future__ import annotations

from dlrig.catalog.builtin import builtin_catalog
from dlrig.cost.snapshot import PrebuiltSystem, builtin_prices
from dlrig.cost.tco import nearest_prebuilt


def _chips(*ids: str):  # type: ignore[no-untyped-def]
    cat = builtin_catalog()
    return [cat.chip(i) for i in ids]


def test_four_2080ti_build_keeps_the_two_4x_2080ti_machines() -> None:
    systems = builtin_prices().prebuilt
    kept, left = nearest_prebuilt(systems, _chips(*["rtx-2080-ti"] * 4), builtin_catalog())
    assert {s.gpus for s in kept} == {4}
    assert {s.chip for s in kept} == {"rtx-2080-ti"}
    assert left == len(systems) - 2


def test_six_4090_build_is_compared_with_tinybox_green_first() -> None:
    kept, _ = nearest_prebuilt(
        builtin_prices().prebuilt, _chips(*["rtx-4090"] * 6), builtin_catalog()
    )
    assert kept[0].name == "tinybox green (6x RTX 4090)"
    assert [s.gpus for s in kept] == [6, 6]


def test_user_quotes_are_always_kept() -> None:
    quote = PrebuiltSystem(vendor="Acme", name="Box", price_usd=9000, gpus=8, origin="user")
    kept, _ = nearest_prebuilt(
        [*builtin_prices().prebuilt, quote], _chips("rtx-5090"), builtin_catalog()
    )
    assert quote in kept
    assert len(kept) == 3


def test_label_does_not_repeat_the_vendor() -> None:
    [lambda_quad] = [s for s in builtin_prices().prebuilt if s.vendor == "Lambda"]
    assert lambda_quad.label == "Lambda Quad (4x RTX 2080 Ti) workstation"
