"""The built-in catalog: curated YAML files in ``catalog/data/``, one or more per category.

Each file is a YAML list of rows: ``<category>.yaml`` plus any ``<category>-<topic>.yaml``
(e.g. ``cpu-server.yaml``), and ``gpu_chips.yaml`` plus ``gpu_chips-<topic>.yaml`` for the GPU
chip specs. Rows are
validated with the parts model, so a bad row names its file, its id and the field at fault.

Parsing and validating the YAML costs more than the rest of a ``dlrig check``, so the validated
parts are cached on disk (:mod:`dlrig.cache`) under a key made of the data files' text,
the parts model's source and the Python and pydantic versions: any change to them is a new key,
so the cache is rebuilt transparently and never serves stale rows.
"""

from __future__ import annotations

import hashlib
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlrig import cache as disk
from dlrig.catalog.core import Catalog
from dlrig.catalog.resolve import NameIndex
from dlrig.errors import CatalogError
from dlrig.parts import PART_MODELS, Category, GpuChip, Part

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

CHIPS_FILE = "gpu_chips.yaml"
CACHE_KIND = "builtin"
CACHE_FORMAT = "1"  # bump when the cached payload's layout changes


def data_files() -> dict[str, str]:
    """File name → text of every shipped data file: read from the package folder directly when
    it is one (importlib.resources costs 5 ms to import and 3 ms to read them, every catalog
    opened), else through importlib.resources (a zip or any other non-folder install)."""
    root: Path | Traversable = Path(__file__).parent / "data"
    if not root.is_dir():
        from importlib import resources

        root = resources.files(__package__ or "dlrig.catalog") / "data"
    return {
        f.name: f.read_text(encoding="utf-8") for f in root.iterdir() if f.name.endswith(".yaml")
    }


@cache
def builtin_catalog() -> Catalog:
    """The shipped catalog (parsed once per process, and cached on disk between processes)."""
    return load_catalog(data_files())


def load_catalog(files: dict[str, str]) -> Catalog:
    """The catalog of the data ``files``: from the disk cache, else parsed (and cached)."""
    key = cache_key(files)
    cached = disk.load(CACHE_KIND, key)
    if cached is not None and _valid_payload(cached):
        parts, chips, version = cached
    else:
        parts, chips, version = parse(files)
        disk.store(CACHE_KIND, key, (parts, chips, version))
    return BuiltinCatalog(parts, chips, version, index_key(key))


INDEX_KIND = "names"  # not "builtin-…": cache._prune globs "builtin-*"


def index_key(catalog_key: str) -> str:
    """The name indexes' cache key: the catalog's and the code that builds the indexes."""
    from dlrig.catalog import core, resolve

    return disk.key_of([catalog_key, *disk.module_sources(core, resolve)])


class BuiltinCatalog(Catalog):
    """The shipped catalog, whose name indexes are cached on disk as well: building them
    parses every name and alias (50 ms of a ``dlrig check`` or a store search). The cached
    indexes refer to the parts by id, so a loaded index holds this catalog's own parts."""

    def __init__(self, parts: list[Part], chips: list[GpuChip], version: str, key: str) -> None:
        super().__init__(parts, chips, name="builtin", version=version)
        self._index_key = key
        self._index_loaded = False

    def _index(self, category: Category | None) -> NameIndex[Any]:
        if not self._index_loaded:
            self._index_loaded = True
            cached = disk.load(INDEX_KIND, self._index_key, persistent_load=self._by_id.__getitem__)
            if isinstance(cached, dict):
                self._indexes.update(cached)
        if (category.value if category else "*") in self._indexes:
            return self._indexes[category.value if category else "*"]
        index = super()._index(category)
        disk.store(INDEX_KIND, self._index_key, dict(self._indexes), persistent_id=self._ref)
        return index

    def _ref(self, obj: Any) -> str | None:
        """A part of this catalog by its id (None: pickled as itself)."""
        if isinstance(obj, Part) and self._by_id.get(obj.id) is obj:
            return obj.id
        return None


def parse(files: dict[str, str]) -> tuple[list[Part], list[GpuChip], str]:
    """Parts, chips and the content version of the data ``files`` (validated, in file order)."""
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
    return parts, chips, digest.hexdigest()[:16]


def cache_key(files: dict[str, str]) -> str:
    """What the parsed catalog depends on: the data, the models that validate it, the runtime."""
    import pydantic

    import dlrig.parts

    code = disk.module_sources(dlrig.parts, sys.modules[__name__])
    texts = [f"{name}\0{files[name]}" for name in sorted(files)]
    runtime = f"{CACHE_FORMAT}:{sys.version_info[:2]}:{pydantic.VERSION}"
    return disk.key_of([runtime, *code, *texts])


def _valid_payload(obj: Any) -> bool:
    return (
        isinstance(obj, tuple)
        and len(obj) == 3
        and isinstance(obj[0], list)
        and isinstance(obj[1], list)
        and isinstance(obj[2], str)
        and all(isinstance(p, Part) for p in obj[0])
        and all(isinstance(c, GpuChip) for c in obj[1])
    )


def _files_of(files: dict[str, str], stem: str) -> list[str]:
    """``<stem>.yaml`` then every ``<stem>-<topic>.yaml``, in name order."""
    extra = sorted(f for f in files if f.startswith(f"{stem}-") and f.endswith(".yaml"))
    return [f for f in (f"{stem}.yaml", *extra) if f in files]


def _rows(fname: str, text: str) -> list[dict[str, Any]]:
    import yaml  # only when the cache is rebuilt

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C loader: ~10x faster
    if not text.strip():
        return []
    try:
        rows = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog file {fname} is not valid YAML: {exc}", "fix it") from exc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise CatalogError(f"catalog file {fname} must be a list of mappings", "fix the file")
    return rows


def _validate(model: Any, row: dict[str, Any], fname: str) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(row)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(x) for x in first["loc"])
        raise CatalogError(
            f"{fname}: row '{row.get('id', '?')}': {field}: {first['msg']}",
            "fix the row in the catalog data",
        ) from exc
