"""Catalog access: the built-in curated catalog, imported stores, lookup and name resolution."""

from __future__ import annotations

import os
from pathlib import Path

from dlrig.catalog.core import Catalog
from dlrig.catalog.resolve import normalize

CATALOG_ENV = "DLRIG_CATALOG"

__all__ = ["CATALOG_ENV", "Catalog", "normalize", "open_catalog"]


def open_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog at ``path``, else at $DLRIG_CATALOG, else the built-in one.

    An imported store (issue: catalog store) always includes the built-in parts.
    """
    chosen = path or os.environ.get(CATALOG_ENV) or None
    if chosen is None:
        from dlrig.catalog.builtin import builtin_catalog

        return builtin_catalog()
    from dlrig.catalog.store import open_store

    return open_store(Path(chosen))
