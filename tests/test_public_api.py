"""The public API in ``dlrig/__init__.py``: the same numbers as the CLI, and a light import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import dlrig

REPO = Path(__file__).resolve().parents[1]
WARMACHINE = REPO / "examples" / "warmachine.yaml"
QLORA_FILE = REPO / "examples" / "workloads" / "llama3-8b-qlora.yaml"


def test_all_names_exist() -> None:
    assert set(dlrig.__all__) >= {"check", "size", "estimate_cost", "open_catalog", "plan"}
    for name in dlrig.__all__:
        assert getattr(dlrig, name) is not None
    from dlrig.parts import Category

    assert dlrig.Category is Category
    with pytest.raises(AttributeError):
        dlrig.no_such_thing  # noqa: B018


def test_import_is_light() -> None:
    code = (
        "import sys, dlrig; "
        "print(sorted(m for m in sys.modules if m.startswith(('dlrig.', 'pydantic', 'yaml'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['dlrig.errors']"


def test_check_warmachine() -> None:
    result = dlrig.check(WARMACHINE)
    assert result.ok and result.errors == []
    [ram] = [f for f in result.warnings if f.slug == "ram-vs-vram"]
    assert "System RAM 32 GB is below the total GPU memory of 44 GB (4×11 GB)" in ram.message
    assert result.build.gpu_count == 4 and result.build.total_vram_gib == 44.0
    assert result.to_dict()["totals"]["peak_power_w"] == 1260.0
    # a str path, an open catalog and --gpus give the CLI's answers too
    two = dlrig.check(str(WARMACHINE), catalog=dlrig.open_catalog(), gpus=2)
    assert two.build.gpu_count == 2 and "ram-vs-vram" not in two.slugs()


def test_check_a_build_object_matches_the_cli(run_cli) -> None:  # type: ignore[no-untyped-def]
    from dlrig.buildfile import load_build
    from dlrig.catalog.offers import priced_catalog

    # the CLI prices parts at the shipped offers; a Build keeps the prices it was made with
    build = load_build(WARMACHINE, priced_catalog(dlrig.open_catalog()))
    assert dlrig.check(build).to_dict() == run_cli("check", str(WARMACHINE), "--json").json()


def test_size_preset_matches_the_cli(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = dlrig.size({"model": "llama-3.1-8b", "task": "qlora"}, gpu="rtx 4090")
    assert round(r.vram_per_gpu_gib, 3) == 10.494 and r.fits is True and r.chip is not None
    cli = run_cli(
        "size", "--model", "llama-3.1-8b", "--task", "qlora", "--gpu", "rtx 4090", "--json"
    ).json()
    assert r.to_dict() == cli
    assert cli["memory_gib"]["total_per_gpu"] == r.to_dict()["memory_gib"]["total_per_gpu"]


def test_size_takes_a_preset_name_a_file_and_a_card_name(run_cli) -> None:  # type: ignore[no-untyped-def]
    bare = dlrig.size("llama-3.1-8b")
    assert bare.workload.model.id == "llama-3.1-8b" and bare.chip is None
    assert bare.to_dict() == run_cli("size", "--model", "llama-3.1-8b", "--json").json()
    from_file = dlrig.size(QLORA_FILE, gpu="RTX 3090", gpus=2)
    cli = run_cli("size", str(QLORA_FILE), "--gpu", "RTX 3090", "--gpus", "2", "--json").json()
    assert from_file.to_dict() == cli and from_file.n_gpus == 2
    card = dlrig.size("llama-3.1-8b", gpu="NVIDIA GeForce RTX 4090 Founders Edition")
    assert card.chip is not None and card.chip.id == "rtx-4090"
    with pytest.raises(dlrig.DlrigError, match="file not found"):
        dlrig.size("missing-workload.yaml")


def test_estimate_cost_matches_the_cli(run_cli) -> None:  # type: ignore[no-untyped-def]
    report = dlrig.estimate_cost(WARMACHINE, hours_per_day=8)
    d = report.to_dict()
    assert d["build"]["upfront_usd"] == 5307.77 and d["own"]["total_usd"] == 7271.35
    cli = run_cli("cost", str(WARMACHINE), "--hours-per-day", "8", "--json").json()
    assert d == cli
    with pytest.raises(dlrig.DlrigError, match="versus: unknown 'moon'"):
        dlrig.estimate_cost(WARMACHINE, versus="moon")


def test_estimate_cost_with_a_workload_matches_the_cli(run_cli) -> None:  # type: ignore[no-untyped-def]
    d = dlrig.estimate_cost(WARMACHINE, workload=QLORA_FILE).to_dict()
    cli = run_cli("cost", str(WARMACHINE), "--workload", str(QLORA_FILE), "--json").json()
    assert d == cli and d["run"]["own_hours"] > 0


def test_open_catalog() -> None:
    cat = dlrig.open_catalog()
    assert cat.name == "builtin" and isinstance(cat, dlrig.Catalog)
    assert cat.get("nvidia-rtx-4090-fe").category is dlrig.Category.GPU


def test_plan_goes_through_the_request_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from dlrig.app import plan as command

    seen: dict[str, Any] = {}

    def fake_run(req: Any, catalog: Any, read_files: bool = True) -> str:
        seen.update(req=req, read_files=read_files)
        return "planned"

    monkeypatch.setattr(command, "run", fake_run)
    out = dlrig.plan("$7,000", "llama-3.1-8b", task="qlora", gpus=2, time_limit=1.0)
    assert out == "planned" and seen["read_files"] is True
    req = seen["req"]
    assert (req.budget_usd, req.workload, req.task, req.gpus, req.time_limit) == (
        7000.0, "llama-3.1-8b", "qlora", 2, 1.0,
    )  # fmt: skip
    with pytest.raises(dlrig.DlrigError, match="unknown field 'time_limit_s'"):
        dlrig.plan(7000, time_limit_s=1.0)


def test_size_takes_a_chip_spec() -> None:
    chip = dlrig.open_catalog().gpu_chip("rtx 4090")
    assert (
        dlrig.size("llama-3.1-8b", gpu=chip).to_dict()
        == dlrig.size("llama-3.1-8b", gpu="rtx 4090").to_dict()
    )


def test_gpus_zero_is_refused_alike() -> None:
    # the library accepted gpus=0 while its hint said "1 or more"
    for call in (
        lambda: dlrig.check(WARMACHINE, gpus=0),
        lambda: dlrig.size("llama-3.1-8b", gpus=0),
        lambda: dlrig.gpus("llama-3.1-8b", gpus=0),
    ):
        with pytest.raises(dlrig.DlrigError, match=r"^gpus: 0 is below 1$"):
            call()
