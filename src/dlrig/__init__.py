"""dlrig: plan, check, size, cost and benchmark a self-built deep-learning machine."""

from __future__ import annotations

__version__ = "0.1.0"

from dlrig.catalog import Catalog, open_catalog
from dlrig.errors import DlrigError
from dlrig.parts import Category

__all__ = ["Catalog", "Category", "DlrigError", "__version__", "open_catalog"]
