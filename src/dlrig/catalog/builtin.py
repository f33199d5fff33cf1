"""The built-in catalog: curated YAML files in ``catalog/data/``, one or more per category.

Each file is a YAML list of rows: ``<category>.yaml`` plus any ``<category>-<topic>.yaml``
(e.g. ``cpu-server.yaml``), and ``gpu_chips.yaml`` plus ``gpu_chips-<topic>.yaml`` for the GPU
chip specs. Rows are
validated with the parts model, so a bad row names its file, its id and the field at fault.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError

from dlrig.catalog.core import Catalog
from dlrig.errors import CatalogError
from dlrig.parts import PART_MODELS, Category, GpuChip, Part

CHIPS_FILE = "gpu_chips.yaml"

try:  # the C loader is ~10x faster; fall back where libyaml is missing
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


def data_files() -> dict[str, str]:
    """File name → text of every shipped data file."""
    root = resources.files("dlrig.catalog") / "data"
    return {
        f.name: f.read_text(encoding="utf-8") for f in root.iterdir() if f.name.endswith(".yaml")
    }


@cache
def builtin_catalog() -> Catalog:
    """The shipped catalog (parsed once per process)."""
    files = data_files()
    digest = hashlib.sha256()
    parts: list[Part] = []
    for category in Category:
        for fname in _files_of(files, category.value):
            text = files[fname]
            digest.update(text.encode())
            for row in _rows(fname, text):
                parts.append(_validate(PART_MODELS[category], row, fname))
    chips: list[GpuChip] = []
    for fname in _files_of(files, CHIPS_FILE.removesuffix(".yaml")):
        text = files[fname]
        digest.update(text.encode())
        chips.extend(_validate(GpuChip, row, fname) for row in _rows(fname, text))
    return Catalog(parts, chips, name="builtin", version=digest.hexdigest()[:16])


def _files_of(files: dict[str, str], stem: str) -> list[str]:
    """``<stem>.yaml`` then every ``<stem>-<topic>.yaml``, in name order."""
    extra = sorted(f for f in files if f.startswith(f"{stem}-") and f.endswith(".yaml"))
    return [f for f in (f"{stem}.yaml", *extra) if f in files]


def _rows(fname: str, text: str) -> list[dict[str, Any]]:
    if not text.strip():
        return []
    try:
        rows = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog file {fname} is not valid YAML: {exc}", "fix it") from exc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise CatalogError(f"catalog file {fname} must be a list of mappings", "fix the file")
    return rows


def _validate(model: Any, row: dict[str, Any], fname: str) -> Any:
    try:
        return model.model_validate(row)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(x) for x in first["loc"])
        raise CatalogError(
            f"{fname}: row '{row.get('id', '?')}': {field}: {first['msg']}",
            "fix the row in the catalog data",
        ) from exc
