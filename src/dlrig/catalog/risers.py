"""PCIe riser cables the planner may mount GPUs on (``catalog/data/risers.yaml``).

A riser is not a build category: a GPU line names the riser its cards sit on. The planner puts
every card of an open-frame plan on the cheapest priced riser of the highest PCIe generation
(:func:`plan_riser`); a riser without a dated price is priced only by a user's quote
(``--part-price NAME=USD``, :func:`with_riser_quotes`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from dlrig.catalog.resolve import normalize
from dlrig.errors import DlrigError
from dlrig.parts import Riser
from dlrig.textfile import load_data_yaml

RISERS_FILE = "risers.yaml"


@cache
def shipped_risers() -> tuple[Riser, ...]:
    """The risers of the shipped data file (a bad row is a shipped-data bug: named)."""
    text = (resources.files("dlrig.catalog") / "data" / RISERS_FILE).read_text(encoding="utf-8")
    data: Any = load_data_yaml(text) or {}
    out: list[Riser] = []
    for i, row in enumerate(data.get("risers") or [], 1):
        fields = {k: v for k, v in row.items() if k != "note"}
        try:
            out.append(Riser.model_validate(fields))
        except ValueError as exc:
            raise DlrigError(
                f"{RISERS_FILE}: riser {i} is invalid: {exc}", "fix the shipped risers file"
            ) from None
    return tuple(out)


def riser_named(name: str, risers: Sequence[Riser] | None = None) -> Riser | None:
    """The riser whose name matches ``name`` (ignoring case and punctuation), or None."""
    key = normalize(name)
    return next((r for r in risers or shipped_risers() if normalize(r.name) == key), None)


def with_riser_quotes(
    quotes: Mapping[str, float], when: Any, source: str = "user quote"
) -> tuple[tuple[Riser, ...], dict[str, float]]:
    """(the shipped risers with the quoted ones priced, the quotes that name no riser)."""
    risers = list(shipped_risers())
    rest: dict[str, float] = {}
    for name, usd in quotes.items():
        hit = riser_named(name, risers)
        if hit is None:
            rest[name] = usd
            continue
        priced = hit.model_copy(
            update={"price_usd": float(usd), "price_date": when, "price_source": source}
        )
        risers = [priced if r is hit else r for r in risers]
    return tuple(risers), rest


def plan_riser(risers: Sequence[Riser]) -> Riser | None:
    """The riser a plan mounts cards on: priced x16 cables, the highest PCIe generation, then
    the cheapest (None: no priced riser, so no open-frame plan)."""
    usable = [
        r for r in risers if r.kind == "cable" and r.price_usd is not None and (r.lanes or 16) >= 16
    ]
    if not usable:
        return None
    return min(usable, key=lambda r: (-(r.pcie_gen or 0), r.price_usd or 0.0, r.name))
