"""`dlrig size` and `dlrig gpus` end to end, against the real catalog."""

from __future__ import annotations

from pathlib import Path

EXAMPLES = Path(__file__).parents[1] / "examples" / "workloads"


def test_size_json_shape(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("size", str(EXAMPLES / "llama3-8b-qlora.yaml"), "--gpu", "RTX 3090", "--json")
    assert r.exit_code == 0, r.stderr
    d = r.json()
    assert set(d["memory_gib"]) == {
        "weights",
        "gradients",
        "optimizer",
        "activations",
        "kv_cache",
        "overhead",
        "total_per_gpu",
    }
    assert d["fits"] is True and d["gpu"]["vram_gib"] == 24
    assert d["time_hours"] > 0 and d["flops"] > 0


def test_size_flags_override_file_and_table(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli(
        "size",
        str(EXAMPLES / "llama3-8b-lora.yaml"),
        "--batch",
        "1",
        "--seq",
        "512",
        "--gpu",
        "RTX 4090",
    )
    assert r.exit_code == 0, r.stderr
    assert "batch 1 × 512 tokens" in r.stdout
    assert "GPU memory per GPU" in r.stdout and "fits in 24 GiB" in r.stdout


def test_size_from_flags_only_and_not_fitting(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli(
        "size",
        "--model",
        "llama-3.1-70b",
        "--task",
        "inference",
        "--precision",
        "bf16",
        "--gpu",
        "RTX 4090",
        "--json",
    )
    assert r.exit_code == 0
    d = r.json()
    assert d["fits"] is False and d["shortfall_gib"] > 100 and d["gpus_needed"] == 8
    assert d["decode_tokens_per_s"] > 0


def test_gpt2_time_on_eight_gpus(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli(
        "size",
        str(EXAMPLES / "gpt2-124m-pretrain.yaml"),
        "--gpu",
        "A100 PCIe 80GB",
        "--gpus",
        "8",
        "-u",
        "0.6",
        "--json",
    )
    d = r.json()
    # 10e9 tokens × (6N + 12·L·h·s) / (8 × 312 TFLOPS × 0.6): PaLM accounting of attention
    assert abs(d["time_hours"] * 60 - 95.7) < 0.5


def test_list_models(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("size", "--list-models", "--json")
    ids = {m["id"] for m in r.json()}
    assert {"llama-3.1-8b", "resnet-50", "sdxl-unet"} <= ids


def test_bad_input_exits_2(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("size", "--model", "llama-3.1-8", "--task", "lora")
    assert r.exit_code == 2 and "did you mean" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("size", "--model", "gpt2", "--batch", "0")
    assert r.exit_code == 2
    r = run_cli("size", "--model", "llama-2-7b", "--task", "train", "--precision", "4bit")
    assert r.exit_code == 2 and "without LoRA" in r.stderr
    r = run_cli("size", "--model", "llama-2-7b", "--task", "lora", "--lora-rank", "5000")
    assert r.exit_code == 2 and "exceeds the hidden size" in r.stderr
    bad = tmp_path / "w.yaml"
    bad.write_text("model: {params: -3}\n", encoding="utf-8")
    r = run_cli("size", str(bad))
    assert r.exit_code == 2 and "positive" in r.stderr
    r = run_cli("size")
    assert r.exit_code == 2 and "no workload" in r.stderr
    r = run_cli("size", "--model", "gpt2", "--gpu", "Voodoo 5")
    assert r.exit_code == 2


def test_bad_utilization_without_gpu_exits_2(run_cli) -> None:  # type: ignore[no-untyped-def]
    # -u was silently ignored when no --gpu was given
    for u in ("2", "0", "-0.5", "nan"):
        r = run_cli("size", "--model", "gpt2", "-u", u)
        assert r.exit_code == 2, u
        assert "outside (0, 1]" in r.stderr and "e.g. 0.4" in r.stderr


def test_bad_token_count_hint(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("size", "--model", "gpt2", "--tokens", "10GB")
    assert r.exit_code == 2 and "data.tokens" in r.stderr
    assert "10B, 125M or 1e9" in r.stderr


def test_gpus_ranks_real_catalog(run_cli, catalog) -> None:  # type: ignore[no-untyped-def]
    r = run_cli(
        "gpus", "--model", "llama-3.1-8b", "--task", "inference", "--precision", "bf16", "--json"
    )
    assert r.exit_code == 0, r.stderr
    rows = r.json()["gpus"]
    assert len(rows) == len(catalog.chips)
    fits = [row["fits"] for row in rows]
    assert fits == sorted(fits, key=lambda f: {True: 0, None: 1, False: 2}[f])  # fitting first
    fitting = [row for row in rows if row["fits"]]
    perf = [row["perf"] for row in fitting if row["perf"] is not None]
    assert perf == sorted(perf, reverse=True)
    small = {row["id"]: row for row in rows}
    assert small["rtx-3080"]["fits"] is False  # 10 GB is too small for 16 GB of weights
    assert small["rtx-4090"]["fits"] is True


def test_gpus_says_how_many_of_each_and_fitting_chips_lead_every_sort(run_cli) -> None:  # type: ignore[no-untyped-def]
    # issue 13: 4-bit Llama 3.1 70B inference (about 42 GiB) on every chip of the catalog
    for key in ("fit", "perf", "price", "perf-per-dollar", "perf-per-watt"):
        args = ["gpus", "--model", "llama-3.1-70b", "--task", "inference", "--precision", "int4"]
        rows = run_cli(*args, "--sort", key, "--json").json()["gpus"]
        assert rows[0]["fits"] is True and rows[0]["gpus_needed"] == 1, key
        rank = [{True: 0, None: 1, False: 2}[row["fits"]] for row in rows]
        assert rank == sorted(rank), key
        short = [row for row in rows if row["fits"] is False]
        assert short and all(row["gpus_needed"] >= 2 for row in short)
        assert all("tensor parallel" in row["parallelism"] for row in short)
        needed = [row["gpus_needed"] for row in short]
        assert needed == sorted(needed), key
    table = run_cli(*args).stdout
    assert "tensor parallel" in table


def test_gpus_sort_by_price_unknown_last(run_cli) -> None:  # type: ignore[no-untyped-def]
    for key in ("price", "perf-per-dollar"):
        rows = run_cli("gpus", "--model", "gpt2", "--tokens", "1B", "--sort", key, "--json").json()[
            "gpus"
        ]
        priced = [row["price_usd"] is not None for row in rows]
        assert priced == sorted(priced, reverse=True)
    rows = run_cli("gpus", "--model", "gpt2", "--sort", "price", "--json").json()["gpus"]
    prices = [row["price_usd"] for row in rows if row["price_usd"] is not None]
    assert prices == sorted(prices)


def test_gpus_without_workload_and_table(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("gpus")
    assert r.exit_code == 0 and "default mix" in r.stdout and "modelled" in r.stdout
    r = run_cli("gpus", "--workload", str(EXAMPLES / "llama3-8b-qlora.yaml"))
    assert r.exit_code == 0 and "launch $" in r.stdout and "unknown" in r.stdout
    r = run_cli("gpus", "--model", "gpt2", "--sort", "cheapest")
    assert r.exit_code == 2


def test_unknown_gpu_chip_suggests_chips(run_cli) -> None:  # type: ignore[no-untyped-def]
    # the chip lookup's "did you mean" was replaced by a bare "list chips" hint
    r = run_cli("size", "--model", "gpt2", "--gpu", "rtx 4060 ti")
    assert r.exit_code == 2
    assert "did you mean 'GeForce RTX 4060 Ti 16 GB'" in r.stderr.replace("\n", " ")
    r = run_cli("size", "--model", "gpt2", "--gpu", "v100")
    assert r.exit_code == 2 and "ambiguous" in r.stderr
    r = run_cli("size", "--model", "gpt2", "--gpu", "Voodoo 5")
    assert r.exit_code == 2 and "dlrig catalog chips" in r.stderr


def test_generic_gpu_family_name_is_ambiguous(run_cli) -> None:  # type: ignore[no-untyped-def]
    """'a100' covers 40/80 GB and PCIe/SXM parts: never pick one silently."""
    for family in ("a100", "h100", "v100"):
        r = run_cli("size", "--model", "gpt2", "--gpu", family)
        assert r.exit_code == 2 and "ambiguous" in r.stderr, family


def test_driver_device_names_resolve(run_cli) -> None:  # type: ignore[no-untyped-def]
    for device, chip in (
        ("NVIDIA A100 80GB PCIe", "a100-pcie-80gb"),
        ("NVIDIA H100 80GB HBM3", "h100-sxm"),
        ("Tesla V100-SXM2-16GB", "v100-sxm2-16gb"),
    ):
        r = run_cli("size", "--model", "gpt2", "--gpu", device, "--json")
        assert r.exit_code == 0 and r.json()["gpu"]["id"] == chip


def test_build_file_given_as_workload(run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("size", "examples/warmachine.yaml")
    assert r.exit_code == 2 and "build file" in r.stderr and "dlrig check" in r.stderr


def test_unreadable_workload_files_exit_2(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # a folder or a binary file was an internal error (exit 3) instead of a clear message
    binary = tmp_path / "w.yaml"
    binary.write_bytes(b"\xff\xfe\x00task: lora")
    tabbed = tmp_path / "t.yaml"
    tabbed.write_text("task: lora\nmodel:\tllama-3.1-8b\n", encoding="utf-8")
    for cmd, needle in (
        (["size", str(tmp_path)], "is a folder, not a file"),
        (["gpus", "--workload", str(tmp_path)], "is a folder, not a file"),
        (["size", str(binary)], "not a text file"),
        (["size", str(tabbed)], "t.yaml:2: not valid YAML"),
    ):
        r = run_cli(*cmd)
        assert r.exit_code == 2, (cmd, r.stderr)
        assert needle in r.stderr and "internal error" not in r.stderr, cmd
