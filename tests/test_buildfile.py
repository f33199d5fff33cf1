"""Build files: parsing, totals, errors with file and line, and a write → read round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dlrig.build import Build, Site
from dlrig.buildfile import dump_build, load_build, parse_build, parse_text, write_build
from dlrig.errors import BuildFileError, InputError
from dlrig.parts import Category

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
WARMACHINE = EXAMPLES / "warmachine.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "b.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_warmachine_totals(catalog: Any) -> None:
    b = load_build(WARMACHINE, catalog)
    assert b.name == "Warmachine"
    assert b.gpu_count == 4 and len(b.gpus) == 4
    assert b.total_vram_gib == 44
    assert b.memory_gb == 32 and b.memory_modules == 2
    assert b.site == Site(120, 15) and b.site.continuous_limit_w == 1440
    # 165 W CPU + 4×250 W GPUs + rest (45 board + 2×6 RAM + 4 SSD + 10 HDD + 12 fans + 12 AIO)
    assert b.system_allowance_w == 95
    assert b.peak_power_w == 165 + 1000 + 95
    assert {p.id for p in b.unpriced} >= {"rosewill-hercules-1600s", "corsair-carbide-air-540"}
    assert b.price_usd == pytest.approx(
        sum(it.total_price_usd or 0 for its in b.items.values() for it in its)
    )
    assert b.chip(b.gpus[0]) is not None


def test_with_gpu_count(catalog: Any) -> None:
    b = load_build(WARMACHINE, catalog)
    one = b.with_gpu_count(1)
    assert one.gpu_count == 1 and one.total_vram_gib == 11
    assert b.gpu_count == 4  # unchanged
    assert one.peak_power_w == b.peak_power_w - 750
    assert b.with_gpu_count(0).gpu_count == 0  # 0 removes the GPUs, so the hint allows it
    with pytest.raises(InputError, match="below 0") as info:
        b.with_gpu_count(-1)
    assert info.value.hint == "give 0 or more" and info.value.field == "gpus"


def test_with_gpu_count_mixed(catalog: Any) -> None:
    data = {
        **_data(),
        "parts": {
            **_data()["parts"],
            "gpu": [{"part": "ASUS Turbo GeForce RTX 2080 Ti", "count": 2}, "NVIDIA RTX A5000"],
        },
    }
    b = parse_build(data, catalog)
    assert [g.id for g in b.with_gpu_count(2).gpus] == ["asus-turbo-rtx-2080ti"] * 2
    with pytest.raises(InputError, match="mixes 2 GPU models"):
        b.with_gpu_count(5)


def _data() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(WARMACHINE.read_text())  # type: ignore[no-any-return]


def test_price_override_and_custom_part(catalog: Any) -> None:
    data = _data()
    data["parts"]["gpu"] = {"part": "ASUS Turbo GeForce RTX 2080 Ti", "count": 4, "price_usd": 999}
    data["parts"]["case"] = {
        "custom": {
            "name": "Open Frame Rig",
            "form_factor": "Open frame",
            "motherboard_form_factors": ["ATX", "E-ATX", "SSI CEB"],
            "expansion_slots": 8,
        },
        "price_usd": 50,
    }
    b = parse_build(data, catalog)
    assert b.case is not None and b.case.custom and b.case.id == "custom-open-frame-rig"
    assert b.case.source == "user"
    gpu_item = b.items[Category.GPU][0]
    assert gpu_item.total_price_usd == 3996
    assert b.price_usd >= 3996 + 50


def test_round_trip(catalog: Any, tmp_path: Path) -> None:
    data = _data()
    data["parts"]["cooler"] = None
    data["parts"]["memory"] = {
        "custom": {
            "name": "My kit",
            "type": "DDR4",
            "speed_mts": 3200,
            "modules": 4,
            "module_gb": 32,
        }
    }
    data["site"] = {"mains_voltage_v": 230, "circuit_amps": 16}
    data["workload"] = {"task": "qlora", "model": "llama-3.1-8b"}
    data["cost"] = {"extras_usd": 150}
    b = parse_build(data, catalog)
    path = write_build(b, tmp_path / "out" / "b.yaml")
    again = load_build(path, catalog)
    assert [
        (c, [(i.part.id, i.count, i.price_usd) for i in its]) for c, its in b.items.items()
    ] == [(c, [(i.part.id, i.count, i.price_usd) for i in its]) for c, its in again.items.items()]
    assert again.site == Site(230, 16)
    assert again.workload == data["workload"] and again.cost == {"extras_usd": 150}
    assert again.cooler is None
    assert "Warmachine" in dump_build(again)


def test_from_parts(catalog: Any) -> None:
    gpu = catalog.resolve("ASUS Turbo GeForce RTX 2080 Ti", Category.GPU)
    cpu = catalog.resolve("Intel Core i9-10920X", Category.CPU)
    b = Build.from_parts({"gpu": (gpu, 2), Category.CPU: cpu}, catalog=catalog)
    assert b.gpu_count == 2 and b.cpu == cpu and b.psu is None
    assert "rtx-2080-ti" in b.chips
    with pytest.raises(InputError, match="not a"):
        Build.from_parts({"cpu": gpu})


@pytest.mark.parametrize(
    ("text", "line", "match", "hint"),
    [
        ("name: x\nparts: [1\n", 3, "invalid YAML", "syntax"),
        ("name: x\nparts:\n\tcpu: Intel Core i9-10920X\n", 3, "invalid YAML", "not allow tabs"),
        (
            "parts:\n  gpu: {part: ASUS Turbo GeForce RTX 2080 Ti, count: 1.5}\n",
            2,
            "whole number, found 1.5",
            "count: 2",
        ),
        ("name: x\nprts: {}\n", 2, "unknown key 'prts'", "did you mean 'parts'"),
        ("name: x\nparts:\n  cpu: Intel Core i9-10920X\n", 2, "missing motherboard", "null"),
        (
            "parts:\n  cpu: Intel Core i9-10920X\n  gpu: {part: ASUS Turbo GeForce RTX 2080 Ti, "
            "count: 0}\n",
            3,
            "count must be at least 1",
            "remove",
        ),
        ("parts:\n  gpu: {part: ASUS Turbo GeForce RTX 2080 Ti, count: -2}\n", 2, "at least 1", ""),
        (
            "parts:\n  gpu: {part: ASUS Turbo GeForce RTX 2080 Ti, count: two}\n",
            2,
            "whole number",
            "",
        ),
        ("parts:\n  cpu: Intel Core i9-10920X\n  gpu: RTX 9999 Hyper\n", 3, "unknown gpu part", ""),
        ("parts:\n  gpu: 12\n", 2, "expected a part name", ""),
        (
            "parts:\n  gpu: {part: ASUS Turbo GeForce RTX 2080 Ti, count: 1000000000000}\n",
            2,
            "count 1,000,000,000,000 is more than one machine holds",
            "check the number",
        ),
        (
            "parts:\n  storage:\n    - {part: Samsung 970 EVO 1TB, count: 60}\n"
            "    - {part: Seagate Exos 8TB, count: 60}\n",
            2,
            "120 storage units in all",
            "check the counts",
        ),
        ("parts:\n  cpus: Intel Core i9-10920X\n", 2, "unknown category 'cpus'", "did you mean"),
        ("parts:\n  cpu: [Intel Core i9-10920X, Intel Core i9-10980XE]\n", 2, "takes one cpu", ""),
        (
            "parts:\n  cpu: Intel Core i9-10920X\n  cpu: Intel Core i9-10980XE\n",
            3,
            "duplicate key",
            "",
        ),
        (
            "parts:\n  case:\n    custom:\n      name: Box\n      expansion_slots: lots\n",
            5,
            "custom case: expansion_slots",
            "fields of a case",
        ),
        ("site: {mains_voltage_v: -5}\nparts: {}\n", 1, "positive number", ""),
        ("- a\n- b\n", 1, "expected a mapping", ""),
        ("", None, "empty", ""),
    ],
)
def test_build_file_errors(
    catalog: Any, tmp_path: Path, text: str, line: int | None, match: str, hint: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(BuildFileError, match=match) as info:
        load_build(path, catalog)
    err = info.value
    assert err.path == str(path)
    assert err.line == line
    assert str(path) in str(err)
    assert err.hint
    assert hint in err.hint


def test_unknown_part_suggests(catalog: Any, tmp_path: Path) -> None:
    text = WARMACHINE.read_text().replace("Intel Core i9-10920X", "Intel i9 10920")
    with pytest.raises(BuildFileError, match="unknown cpu part 'Intel i9 10920'") as info:
        load_build(_write(tmp_path, text), catalog)
    assert info.value.line == 3
    assert "did you mean" in info.value.hint and "Intel Core i9-10920X" in info.value.hint


def test_ambiguous_part(catalog: Any, tmp_path: Path) -> None:
    text = WARMACHINE.read_text().replace("Intel Core i9-10920X", "Intel Core i9")
    with pytest.raises(BuildFileError, match="ambiguous") as info:
        load_build(_write(tmp_path, text), catalog)
    assert info.value.line == 3 and "full name" in info.value.hint


def test_missing_file(catalog: Any, tmp_path: Path) -> None:
    with pytest.raises(BuildFileError, match="not found"):
        load_build(tmp_path / "nope.yaml", catalog)


def test_json_build_file(catalog: Any, tmp_path: Path) -> None:
    import json

    p = tmp_path / "b.json"
    p.write_text(json.dumps(_data()))
    assert load_build(p, catalog).gpu_count == 4


def test_not_utf8_build_file(catalog: Any, tmp_path: Path) -> None:
    p = tmp_path / "b.yaml"
    p.write_bytes(b"\xff\xfename: x\n")
    with pytest.raises(BuildFileError, match="not a text file") as info:
        load_build(p, catalog)
    assert "UTF-8" in info.value.hint


def test_invalid_json_build_file_says_json(catalog: Any, tmp_path: Path) -> None:
    p = tmp_path / "b.json"
    p.write_text('{"name": "x",\n "parts": {"cpu": "Intel Core i9-10920X",, }\n}\n')
    with pytest.raises(BuildFileError, match="invalid JSON") as info:
        load_build(p, catalog)
    assert info.value.line == 2 and "commas" in info.value.hint


def test_with_gpu_count_cap(catalog: Any) -> None:
    build = load_build(WARMACHINE, catalog)
    assert build.with_gpu_count(64).gpu_count == 64
    with pytest.raises(InputError, match="more than one machine holds"):
        build.with_gpu_count(65)


def test_lines_map() -> None:
    _, lines = parse_text("name: x\nparts:\n  cpu: a\n  gpu:\n    - b\n    - c\n")
    assert lines[("parts", "cpu")] == 3
    assert lines[("parts", "gpu", 1)] == 6


def test_load_build_text_names_its_source(catalog: Any) -> None:
    from dlrig.buildfile import load_build_text

    text = (Path(__file__).parents[1] / "examples" / "warmachine.yaml").read_text("utf-8")
    build = load_build_text(text, catalog)
    assert build.gpu_count == 4 and build.source == "<text>" and build.name == "Warmachine"
    with pytest.raises(BuildFileError) as exc:
        load_build_text("name: x\nparts:\n  cpux: 1\n", catalog, source="<pasted>")
    assert exc.value.line == 3 and str(exc.value.message).startswith("<pasted>:3:")


def test_site_parse_circuit_text() -> None:
    assert Site.parse(None).continuous_limit_w == 1440  # 120 V × 15 A × 80 %
    site = Site.parse("230V x 16")
    assert (site.mains_voltage_v, site.circuit_amps) == (230, 16)
    assert site.continuous_limit_w == pytest.approx(2944)
    # amps as breakers are labelled ("16A") read too
    assert Site.parse("230 V x 16 A") == Site(230, 16)
    assert Site.parse("120Vx15A") == Site(120, 15)
    for bad in ("120", "twelve x 5", "12x5", "120x0", "120x15x2", "nanx15", "120x15W"):
        with pytest.raises(InputError):
            Site.parse(bad)


def test_site_takes_the_circuit_syntax_of_the_cli(catalog: Any, tmp_path: Path) -> None:
    """site: 230x16 and circuits: [120x15, ...] read as --circuit reads them."""
    base = load_build("examples/warmachine.yaml", catalog)
    text = dump_build(base)
    head, _, _ = text.partition("site:")
    two = "site:\n  circuits: [120x15, '120V x 20']\n"
    many = load_build(_write(tmp_path, head + two), catalog)
    assert many.site.circuits == ((120, 15), (120, 20))
    one = load_build(_write(tmp_path, head + "site: 230x16\n"), catalog)
    assert one.site == Site(230, 16)
    mixed = "site:\n  circuits: [120x15, {mains_voltage_v: 230, circuit_amps: 16}]\n"
    assert load_build(_write(tmp_path, head + mixed), catalog).site.circuits[1] == (230, 16)
    # the CLI's checks and messages, with the file and line
    with pytest.raises(BuildFileError, match="not a plausible branch circuit") as info:
        load_build(_write(tmp_path, head + "site:\n  circuits: [120x15, 12x5]\n"), catalog)
    assert info.value.line is not None and "120x15 or 230x16" in info.value.hint
    with pytest.raises(BuildFileError, match="not VOLTSxAMPS"):
        load_build(_write(tmp_path, head + "site: fifteen amps\n"), catalog)


def test_a_bare_number_is_not_a_circuit(catalog: Any, tmp_path: Path) -> None:
    """YAML 1.1 reads circuits: [0x15] as the hex number 21: the message says so, with the file
    and line and how to write it, and the mapping form gets the text form's plausibility check."""
    head, _, _ = dump_build(load_build("examples/warmachine.yaml", catalog)).partition("site:")
    for site, where, number in (
        ("site:\n  circuits: [120x15, 0x15]\n", "site.circuits[1]", "21"),
        ("site:\n  circuits: [120]\n", "site.circuits[0]", "120"),
        ("site: 230\n", "site", "230"),
    ):
        path = _write(tmp_path, head + site)
        with pytest.raises(BuildFileError) as info:
            load_build(path, catalog)
        err = info.value
        assert f"{where}: YAML read this circuit as the number {number}" in err.message
        assert err.line == head.count("\n") + (2 if "circuits" in site else 1)
        assert "write 120x15" in err.hint and "quote it" in err.hint
    with pytest.raises(BuildFileError, match="12 V × 15 A is not a plausible") as bad:
        load_build(_write(tmp_path, head + "site: {mains_voltage_v: 12}\n"), catalog)
    assert bad.value.line is not None


def test_write_build_failure_is_bad_input_and_keeps_old_file(tmp_path, catalog) -> None:  # type: ignore[no-untyped-def]
    import pytest as _pytest

    from dlrig.buildfile import load_build, write_build
    from dlrig.errors import BuildFileError

    build = load_build("examples/warmachine.yaml", catalog)
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with _pytest.raises(BuildFileError, match="cannot write the build file"):
        write_build(build, blocker / "b.yaml")  # a folder that is a file
    target = tmp_path / "b.yaml"
    write_build(build, target)
    assert load_build(target, catalog).gpu_count == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.yaml", "file"]  # no .tmp left


def test_unreadable_files_share_one_set_of_messages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Build files, workloads and price lists report a folder / non-UTF-8 file the same way."""
    import pytest as _pytest

    from dlrig.buildfile import read_build_data
    from dlrig.cost.snapshot import load_price_list
    from dlrig.errors import InputError
    from dlrig.workload import load_workload

    binary = tmp_path / "x.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    for read in (read_build_data, load_workload, load_price_list):
        with _pytest.raises(InputError, match=r"not a text file \(byte 0 is not UTF-8\)"):
            read(binary)
        with _pytest.raises(InputError, match="is a folder, not a file"):
            read(tmp_path)
        with _pytest.raises(InputError, match="file not found"):
            read(tmp_path / "missing.yaml")
