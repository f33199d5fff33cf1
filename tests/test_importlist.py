"""PCPartPicker plain-text list import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dlrig.importlist import import_list, parse_lines
from dlrig.parts import Category

TEXT = (Path(__file__).parent / "data" / "warmachine_pcpartpicker.txt").read_text()


def test_parse_lines_skips_header_totals_and_notes() -> None:
    lines = parse_lines(TEXT)
    labels = [label for _, label, _, _ in lines]
    assert labels[0] == "CPU" and "Total" not in labels and "Prices include" not in " ".join(labels)
    n, label, text, price = lines[0]
    assert (n, label, price) == (3, "CPU", 699.99)
    assert text == "Intel Core i9-10920X 3.5 GHz 12-Core Processor"
    # "(Purchased For $1099.00)" is read as the price of that line
    assert [(n, label, p) for n, label, _, p in lines if label == "Video Card"] == [
        (9, "Video Card", 1199.99),
        (10, "Video Card", 1199.99),
        (11, "Video Card", 1199.99),
        (12, "Video Card", 1099.0),
    ]


def test_import_warmachine(catalog: Any) -> None:
    res = import_list(TEXT, catalog, name="wm")
    b = res.build
    assert b is not None
    assert b.gpu_count == 4 and {g.id for g in b.gpus} == {"asus-turbo-rtx-2080ti"}
    assert b.cpu is not None and b.cpu.id == "intel-core-i9-10920x"
    assert b.case is not None and b.case.id == "corsair-carbide-air-540"
    assert b.psu is not None and b.psu.id == "rosewill-hercules-1600s"
    assert b.motherboard is not None and b.motherboard.id == "asus-ws-x299-sage"
    assert {d.id for d in b.drives} == {"samsung-970-evo-1tb", "seagate-exos-8tb"}
    # prices from the list are kept: 3×1199.99 + 1099 for the GPUs
    gpu_total = sum(it.total_price_usd or 0 for it in b.items[Category.GPU])
    assert gpu_total == pytest.approx(3 * 1199.99 + 1099.0)
    assert not b.unpriced
    assert [u.line for u in res.unresolved] == [15, 16]
    assert res.missing_categories == []


def test_unknown_line_is_listed(catalog: Any) -> None:
    res = import_list("CPU: Frobozz Quantum 9000 Processor  ($1.00 @ Nowhere)\n", catalog)
    assert res.build is None or res.build.cpu is None
    assert len(res.unresolved) == 1 and res.unresolved[0].line == 1
    assert "cpu" in res.missing_categories
    d = res.to_dict()
    assert d["unresolved"][0]["text"].startswith("CPU: Frobozz")


def test_binary_file_is_bad_input(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "list.txt"
    path.write_bytes(b"\x00\xff\xfe binary")
    r = run_cli("import-list", str(path), "-o", str(tmp_path / "b.yaml"))
    assert r.exit_code == 2 and "not a text file" in r.stderr
    assert not (tmp_path / "b.yaml").exists()
