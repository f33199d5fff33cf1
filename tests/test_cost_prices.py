"""Price snapshots (sourced, dated) and user price lists (CSV/YAML) with clear errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dlrig.catalog import open_catalog
from dlrig.cost import builtin_prices, check_chips, defaults, load_price_list
from dlrig.cost.snapshot import is_stale
from dlrig.errors import PriceListError


def test_every_snapshot_row_has_source_and_date() -> None:
    p = builtin_prices()
    assert len(p.cloud) >= 20 and p.prebuilt
    assert len({o.provider for o in p.cloud}) >= 6
    for row in [*p.cloud, *p.prebuilt, *p.storage]:
        assert row.source.startswith("http"), row
        assert isinstance(row.as_of, dt.date), row
    for o in p.cloud:
        assert o.on_demand_usd_per_hour > 0 and o.gpus >= 1
        assert o.spot_usd_per_hour is None or o.spot_usd_per_hour < o.on_demand_usd_per_hour


def test_defaults_are_sourced() -> None:
    d = defaults()
    assert 0.05 < d.electricity_usd_per_kwh < 0.5
    for key in ("electricity_usd_per_kwh", "load_fraction", "psu_efficiency_by_rating", "resale"):
        assert str(d.sources[key]["source"]).startswith("http"), key
        assert isinstance(d.sources[key]["as_of"], dt.date), key


def test_stale_flag() -> None:
    today = dt.date(2026, 11, 28)
    assert is_stale(dt.date(2025, 1, 28), today, 365)
    assert not is_stale(dt.date(2026, 5, 7), today, 365)
    assert is_stale(None, today, 365)


def test_snapshot_chips_resolve() -> None:
    """Every cloud row's chip is in the chip table (a missing one would leave the offering
    *unchecked*, never silently dropped)."""
    cat = open_catalog()
    missing = set()
    for o in builtin_prices().cloud:
        try:
            cat.chip(o.chip)
        except Exception:
            missing.add(o.chip)
    # AWS's A10G has a row since issue 12 (TechPowerUp's figures, tensor rates unknown)
    assert missing == set()


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_csv_price_list(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "mine.csv",
        "provider,offering,chip,gpus,on_demand_usd_per_hour,spot_usd_per_hour,as_of\n"
        "Acme,4x4090,RTX 4090,4,$2.00,,2026-10-01\n"
        "\n",
    )
    prices = load_price_list(p)
    assert prices.cloud[0].gpus == 4 and prices.cloud[0].on_demand_usd_per_hour == 2.0
    assert prices.cloud[0].spot_usd_per_hour is None
    assert prices.cloud[0].as_of == dt.date(2026, 10, 1)
    check_chips(prices, open_catalog())  # "RTX 4090" resolves


def test_csv_prebuilt_rows(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "q.csv",
        "kind,vendor,name,price_usd,chip,gpus\nprebuilt,Bizon,G3000 quote,14500,RTX 4090,4\n",
    )
    prices = load_price_list(p)
    assert prices.prebuilt[0].price_usd == 14500 and not prices.cloud


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "provider,offering,chip,gpus,on_demand_usd_per_hour\nA,x,RTX 4090,1\n",
            r"mine.csv:2: 4 fields",
        ),
        (
            "provider,offering,chip,gpus,on_demand_usd_per_hour\nA,x,RTX 4090,1,cheap\n",
            r"mine.csv:2: on_demand_usd_per_hour 'cheap' is not a number",
        ),
        ("provider,offering,chip,gpus,on_demand_usd_per_hour\nA,x,RTX 4090,0,1\n", "whole number"),
        ("provider,offering,chip,gpus,on_demand_usd_per_hour\nA,x,RTX 4090,1,-2\n", "above zero"),
        ("provider,offering,chip,gpus,price\nA,x,RTX 4090,1,2\n", "unknown column"),
        ("provider,offering,chip,gpus\nA,x,RTX 4090,1\n", "missing on_demand_usd_per_hour"),
        (
            "provider,offering,chip,gpus,on_demand_usd_per_hour,as_of\nA,x,y,1,2,last week\n",
            "not a date",
        ),
        ("", "empty"),
    ],
)
def test_malformed_csv(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(PriceListError, match=match) as exc:
        load_price_list(_write(tmp_path, "mine.csv", text))
    assert exc.value.hint


def test_unknown_gpu_in_price_list(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "mine.csv",
        "provider,offering,chip,gpus,on_demand_usd_per_hour\nA,x,RTX 9090 Ultra,1,2\n",
    )
    with pytest.raises(PriceListError, match="unknown GPU chip 'RTX 9090 Ultra'"):
        check_chips(load_price_list(p), open_catalog())


def test_yaml_price_list_and_errors(tmp_path: Path) -> None:
    good = _write(
        tmp_path,
        "p.yaml",
        "offerings:\n  - {provider: A, offering: x, chip: rtx-4090,"
        " gpus: 1, on_demand_usd_per_hour: 0.5}\n",
    )
    assert load_price_list(good).cloud[0].chip == "rtx-4090"
    with pytest.raises(PriceListError, match="not valid YAML"):
        load_price_list(_write(tmp_path, "b.yaml", "offerings: [\n"))
    with pytest.raises(PriceListError, match="offerings"):
        load_price_list(_write(tmp_path, "c.yaml", "- 1\n"))
    with pytest.raises(PriceListError, match="unknown format"):
        load_price_list(_write(tmp_path, "d.xlsx", "x"))
    with pytest.raises(PriceListError, match="file not found"):
        load_price_list(tmp_path / "nope.csv")
