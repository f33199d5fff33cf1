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
    assert res.unresolved == []  # the case fan and the custom part are skipped, not failures
    assert [u.line for u in res.skipped] == [15, 16]
    assert res.missing_categories == []
    # every line was matched word by word (shop spec words dropped): each carries a note
    assert len(res.notes) == 12
    assert res.notes[-1].startswith(
        "line 14: 'Rosewill 1600 W 80+ Gold Certified Semi-modular ATX Power Supply' matched as "
        "'Rosewill Hercules 1600W'"
    )


def test_typos_still_give_the_warmachine(catalog: Any) -> None:
    from dlrig.buildfile import load_build

    text = (Path(__file__).parent / "data" / "warmachine_pcpartpicker_typos.txt").read_text()
    res = import_list(text, catalog)
    assert res.build is not None and not res.unresolved
    want = load_build(Path(__file__).parents[1] / "examples" / "warmachine.yaml", catalog)
    got = {c: sorted((it.part.id, it.count) for it in its) for c, its in res.build.items.items()}
    expected = {c: sorted((it.part.id, it.count) for it in its) for c, its in want.items.items()}
    got[Category.GPU] = [("asus-turbo-rtx-2080ti", 4)]  # two price rows (3 + 1) in the list
    assert got == expected
    assert "read 'corsiar' as 'corsair'" in " ".join(res.notes)


@pytest.mark.parametrize(
    ("line", "wrong"),
    [
        ("Power Supply: EVGA SuperNOVA 1300 G2 1300 W 80+ Gold", "evga-supernova-1600-g2"),
        ("Video Card: NVIDIA Founders Edition GeForce GTX 1070 8 GB", "nvidia-gtx-1080-fe"),
        ("Video Card: MSI GAMING X TRIO GeForce RTX 4090 24 GB", "msi-rtx-5090-gaming-trio"),
        ("Storage: Crucial T705 4 TB M.2-2280 PCIe 5.0 X4 NVME", "crucial-p3-4tb"),
    ],
)
def test_different_model_is_refused_with_candidates(catalog: Any, line: str, wrong: str) -> None:
    res = import_list(line + "  ($100.00 @ Shop)\n", catalog)
    assert res.build is None and not res.resolved  # no part chosen, least of all the wrong one
    (u,) = res.unresolved
    assert u.reason.startswith("unknown ") and u.candidates  # refused, with candidates
    assert wrong not in {r.part_id for r in res.resolved}


def test_junk_text_is_bad_input(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "junk.txt"
    path.write_text("hello world\nfoo: bar\n")
    r = run_cli("import-list", str(path))
    assert r.exit_code == 2 and "no PCPartPicker part lines" in r.stderr
    assert r.stderr.count("missing:") == 0


def test_list_with_a_case_fan_imports(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "b.yaml"
    r = run_cli(
        "import-list",
        str(Path(__file__).parent / "data" / "warmachine_pcpartpicker.txt"),
        "-o",
        str(out),
    )
    assert r.exit_code == 0, r.stderr
    assert "skipped: line 15: Case Fan" in r.stderr
    text = out.read_text()
    # the fuzzy acceptances are written into the build file for the user to confirm
    assert (
        "# line 13: 'Corsair Air 540 ATX Mid Tower Case' matched as 'Corsair Carbide Air 540'"
        in text
    )
    r2 = run_cli("check", str(out))
    assert r2.exit_code == 0, r2.stderr


def test_long_junk_is_bounded(catalog: Any) -> None:
    import time

    from dlrig.errors import InputError

    text = "CPU: " + "(" * 100_000 + "a " * 50_000 + "\n" + "Video Card: " + "9" * 200_000
    start = time.perf_counter()
    with pytest.raises(InputError, match="line 1 is"):
        import_list(text, catalog)
    # a long name within a line is refused by the resolver, also in bounded time
    res = import_list("CPU: " + "Intel Core i9 " * 60 + "\n", catalog)
    assert time.perf_counter() - start < 5
    assert res.build is None and "longer than 200 characters" in res.unresolved[0].reason


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
