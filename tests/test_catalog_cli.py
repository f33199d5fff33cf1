"""`dlrig catalog ...` end to end through the real entry point."""

from __future__ import annotations


def test_version(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("--version")
    assert r.exit_code == 0 and r.stdout.startswith("dlrig ")


def test_list_gpu_table(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("catalog", "list", "--category", "gpu")
    assert r.exit_code == 0
    assert "ASUS Turbo GeForce RTX 2080 Ti" in r.stdout
    assert "VRAM GiB" in r.stdout


def test_list_json_parses_back(run_cli, catalog) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("catalog", "list", "-c", "gpu", "--json")
    assert r.exit_code == 0
    data = r.json()
    from dlrig.parts import Category

    assert len(data) == len(catalog.parts(Category.GPU))
    assert all(d["category"] == "gpu" and d["id"] and d["name"] for d in data)


def test_list_filter(run_cli) -> None:  # type: ignore[no-untyped-def]
    data = run_cli("catalog", "list", "-c", "gpu", "-f", "vram_gib>=40", "--json").json()
    assert data and all(d["vram_gib"] >= 40 for d in data)
    blowers = run_cli("catalog", "list", "-c", "gpu", "-f", "cooling=blower", "--json").json()
    assert blowers and all(d["cooling"] == "blower" for d in blowers)


def test_show_board_with_slots(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("catalog", "show", "ASUS WS X299 SAGE", "--json")
    assert r.exit_code == 0
    data = r.json()
    assert data["form_factor"] == "SSI CEB" and len(data["pcie_slots"]) >= 7
    r = run_cli("catalog", "show", "asus ws x299 sage")
    assert r.exit_code == 0 and "pcie_slots" in r.stdout and "source" in r.stdout


def test_show_gpu_includes_chip(run_cli) -> None:  # type: ignore[no-untyped-def]
    data = run_cli("catalog", "show", "ASUS Turbo GeForce RTX 2080 Ti", "--json").json()
    assert data["chip_spec"]["architecture"].lower().startswith("turing")


def test_search(run_cli) -> None:  # type: ignore[no-untyped-def]
    data = run_cli("catalog", "search", "x299", "--json").json()
    assert any(d["name"] == "ASUS WS X299 SAGE" for d in data)


def test_chips(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("catalog", "chips")
    assert r.exit_code == 0 and "4090" in r.stdout


def test_bad_category_exits_2(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("catalog", "list", "--category", "gpuz")
    assert r.exit_code == 2
    assert "unknown category" in r.stderr and r.stdout == ""
    assert "Traceback" not in r.stderr


def test_bad_filter_exits_2(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("catalog", "list", "-c", "gpu", "-f", "vram>=24")
    assert r.exit_code == 2 and "vram_gib" in r.stderr
    r = run_cli("catalog", "list", "-c", "gpu", "-f", "vram_gib>=lots")
    assert r.exit_code == 2 and "not a number" in r.stderr


def test_filter_number_with_unit_hint(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("catalog", "list", "-c", "gpu", "-f", "vram_gib>=24GB")
    assert r.exit_code == 2 and "'24GB' is not a number" in r.stderr
    assert "'vram_gib>=24'" in r.stderr and "carries the unit" in r.stderr


def test_search_prints_markup_characters_literally(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("catalog", "search", "zzqx [/] [bold]")
    assert r.exit_code == 0 and "internal error" not in r.stderr
    assert "nothing matches 'zzqx [/] [bold]'" in r.stdout


def test_unknown_part_exits_2_with_suggestion(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("catalog", "show", "ASUS WS X299 SAGEE PRO MAX")
    assert r.exit_code == 2
    assert "X299" in r.stderr


def test_unknown_option_exits_2(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("catalog", "list", "--colour")
    assert r.exit_code == 2


def test_filter_value_typo_is_named(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("catalog", "list", "-c", "gpu", "-f", "cooling=blowr")
    assert r.exit_code == 2 and "did you mean 'blower'" in r.stderr
    ok = run_cli("catalog", "list", "-f", "kind=nvme", "--json")
    assert ok.exit_code == 0 and ok.json() and all(d["kind"] == "nvme" for d in ok.json())
