"""A new importer is one class on the protocol plus one line in ``IMPORTERS``
(docs/architecture.md, "Adding things"). This test adds one the way a new dataset module would —
GPU chips written in dlrig's own schema, one JSON object a line — and runs it through
``dlrig catalog import``: the CLI, the shared loop (quarantine, report), the one transaction and
the store's readers need nothing more."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from dlrig.catalog.importers import ImportReport, change_status, read_records
from dlrig.catalog.importers import run as importers_run
from dlrig.catalog.importers.protocol import Fetched, Mapped, SourceRow
from dlrig.catalog.importers.sources import DatasetInfo, dataset_row
from dlrig.catalog.store import ImportChanges, origin_chips
from dlrig.parts import GpuChip

OWN = DatasetInfo(
    name="own-chips",
    title="A chip table in dlrig's schema",
    url="file:own-chips.jsonl",
    license="the user's own",
    attribution="",
    license_file="",
    manifest_prefix="own-chips/",
)


class OwnChipsImporter:
    """The whole importer: read, validate with the parts model, write the chips."""

    info = OWN

    def fetch(self, path: Path | None) -> Fetched:
        assert path is not None
        self.path = path
        rows = [
            SourceRow("gpu-chip", where, rec, err, str((rec or {}).get("name", "")))
            for where, rec, err in read_records(path)
        ]
        return Fetched(rows, path)

    def prepare(self, conn: sqlite3.Connection, fetched: Fetched, report: ImportReport) -> None:
        self.existing = origin_chips(conn, OWN.name)
        self.chips: list[tuple[str, GpuChip]] = []

    def map(self, row: SourceRow) -> Mapped | None:
        assert row.record is not None
        chip = GpuChip.model_validate({**row.record, "origin": OWN.name})  # invalid: quarantined
        self.chips.append((row.where, chip))
        data = chip.model_dump_json(exclude_none=True)
        return Mapped(change_status(self.existing.get(row.where), data), row.where, "", chip.name)

    def finish(self, report: ImportReport) -> ImportChanges:
        return ImportChanges(
            OWN.name,
            chips=[
                (c.id, OWN.name, where, c.name, c.model_dump_json(exclude_none=True))
                for where, c in self.chips
            ],
            replace_chips=True,
            datasets=[dataset_row(OWN, self.path, len(self.chips))],
        )


CHIPS = [
    {
        "id": "my-accelerator",
        "name": "My Accelerator 48 GB",
        "vendor": "nvidia",
        "architecture": "Ada Lovelace",
        "fp32_tflops": 91.1,
        "vram_gib": 48,
        "tdp_w": 300,
        "source": "https://example.org/my-accelerator-datasheet",
    },
    {
        "id": "broken",
        "name": "Broken",
        "vendor": "nvidia",
        "architecture": "x",
        "tdp_w": 5,
        "source": "s",
    },  # tdp_w below 30 W: refused by the parts model
]


def test_one_class_and_one_line_in_importers_make_a_working_import(
    run_cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(importers_run.IMPORTERS, OWN.name, lambda setup: OwnChipsImporter())
    table = tmp_path / "own-chips.jsonl"
    table.write_text("\n".join(json.dumps(c) for c in CHIPS) + "\n", encoding="utf-8")
    store = str(tmp_path / "store.sqlite")

    r = run_cli("catalog", "import", OWN.name, str(table), "--catalog", store, "--json")
    assert r.exit_code == 0, r.stderr
    counts = r.json()["counts"]["gpu-chip"]
    assert (counts["imported"], counts["quarantined"]) == (1, 1)  # tdp_w 5 W is refused

    import dlrig

    chip = dlrig.open_catalog(store).chip("my-accelerator")
    assert (chip.fp32_tflops, chip.origin) == (91.1, OWN.name)
    sources = run_cli("catalog", "sources", "--catalog", store, "--json").json()
    assert [s["name"] for s in sources] == [OWN.name]
    again = run_cli("catalog", "import", OWN.name, str(table), "--catalog", store, "--json")
    assert again.json()["counts"]["gpu-chip"]["unchanged"] == 1  # idempotent
