"""Reading plan()'s inputs: the workload (preset, file, mapping or object, with task/precision laid
over it) and the --include/--exclude terms (brands or parts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlrig.errors import PartNotFoundError

if TYPE_CHECKING:
    from dlrig.catalog import Catalog
    from dlrig.workload import Workload


def load_workload(
    workload: Any, task: str | None, precision: str | None = None
) -> tuple[Workload | None, Any]:
    """(validated workload, what to write in the build file); ``task`` and ``precision`` are
    laid over the workload's own (a preset's default bf16 cannot serve 70B on small cards)."""
    if workload is None:
        return None, None
    from dlrig.workload import Workload, load_workload, workload_from_mapping

    over = {k: v for k, v in (("task", task), ("precision", precision)) if v}
    if isinstance(workload, Workload):
        if over:
            data = {**workload.model_dump(mode="json", exclude_defaults=True), **over}
            data["model"] = workload.model
            return workload_from_mapping(data), {**data, "model": workload.model.id}
        return workload, workload.model_dump(mode="json", exclude_defaults=True)
    if isinstance(workload, Mapping):
        data = {**dict(workload), **over}
        return workload_from_mapping(data), data
    text = str(workload)
    if Path(text).exists():
        w = load_workload(Path(text))
        if over:
            from dlrig.workload import _read_workload_file

            data = {**_read_workload_file(Path(text)), **over}
            return workload_from_mapping(data, where=text), data
        return w, str(text)
    data = {"model": text, **over}
    return workload_from_mapping(data, where="workload"), data  # the request field: any door


def resolve_terms(catalog: Catalog, terms: Sequence[str], what: str) -> tuple[set[str], set[str]]:
    """(part ids, normalised brands) that ``--include``/``--exclude`` terms name."""
    from dlrig.catalog import normalize

    ids: set[str] = set()
    out_brands: set[str] = set()
    if not terms:
        return ids, out_brands
    brands = {normalize(p.brand) for p in catalog.parts()}
    for t in terms:
        key = normalize(t)
        if key in brands:
            out_brands.add(key)
            continue
        try:
            ids.add(catalog.resolve(t).id)
        except PartNotFoundError as exc:
            raise PartNotFoundError(
                f"{what}: '{t}' is neither a brand nor a part: {exc.message}",
                exc.hint,
                field=what,
            ) from None
    return ids, out_brands
