"""Pictures of a build as SVG text: the slot map and the power budget bar.

Both are drawn from a :class:`~dlrig.build.Build` with the same placement and power formulas
the rules use (the checker's GPU placement ``RuleContext.gpu_layout``, with each card's slot:
and riser:; ``limits.psu_required_w``, ``units.wall_power_w``), so a picture can never
disagree with ``dlrig check``. They are plain SVG strings without scripts or external
references, safe to inline in a page, an export or a file (``dlrig check --slot-map
FILE.svg``). Every text taken from a build (part names) is escaped.

Geometry (to scale, in millimetres, 1 mm = :data:`PX_PER_MM` px):

- expansion-slot pitch 0.8 in = 20.32 mm (ATX Specification 2.2, Intel 2004: expansion
  slots 0.800 in apart);
- PCIe connector lengths by physical size: x1 25 mm, x4 39 mm, x8 56 mm, x16 89 mm (PCI Express
  Card Electromechanical Specification, as tabulated in Wikipedia's "PCI Express" article,
  section "Form factors"/"Connector pinout").
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from itertools import pairwise

from dlrig import units
from dlrig.build import Build
from dlrig.parts import Gpu, Motherboard, PcieSlot
from dlrig.rules import limits
from dlrig.rules.base import RuleContext

__all__ = ["power_bar_svg", "slot_map_svg"]

SLOT_PITCH_MM = 20.32  # ATX: 0.8 in between expansion slots (see the module docstring)
CONNECTOR_MM = {1: 25.0, 4: 39.0, 8: 56.0, 16: 89.0}  # PCIe CEM connector length by size
PX_PER_MM = 2.2  # drawing scale
_LEFT = 96.0  # px: room for the "slot N" labels
_CARD_X_MM = 12.0  # where a card's body starts, right of the slot's left end
_CARD_MM = 170.0  # drawn card body length (the picture is about thickness, not length)
_FONT = "font-family='system-ui, sans-serif'"
_LANES_PX = 200.0  # the column of lane labels, right of the cards
_NOTES_PX = 250.0  # the column of notes between cards (air gaps, bridges), right of the lanes
_X_LANES = _LEFT + PX_PER_MM * (_CARD_X_MM + _CARD_MM) + 8
_X_NOTES = _X_LANES + _LANES_PX

_COLOURS = {
    "board": "#e8eef4",
    "slot": "#52606d",
    "card": "#2454c5",
    "card_assumed": "#7a8fc9",
    "blocked": "#b42318",
    "gap": "#067647",
    "bridge": "#a15c07",
    "riser": "#0e7490",
    "cpu": "#175cd3",
    "gpu": "#2454c5",
    "rest": "#98a2b3",
    "limit": "#b42318",
    "psu": "#1d2330",
}


@dataclass(frozen=True, slots=True)
class _Row:
    """One slot position: its slot (if any), the card seated in it, the card covering it."""

    position: int
    slot: PcieSlot | None
    seated: Gpu | None
    lanes: int | None
    covered_by: Gpu | None


def _t(x: float, y: float, text: str, size: int = 12, extra: str = "") -> str:
    return f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' {_FONT} {extra}>{escape(text)}</text>"


def slot_map_svg(build: Build) -> str:
    """The board's expansion slots to scale, each GPU drawn at its thickness in the slot the
    checker places it in, with lanes per slot, blocked slots, air gaps and NVLink bridges."""
    board = build.motherboard
    if board is None or not board.pcie_slots:
        why = "no motherboard" if board is None else f"{board.name}: slot layout unknown"
        return _message_svg("slot map", why)
    # the checker's own placement: the build file's slot: and riser: of each card honoured
    placement, m2_hosted = RuleContext(build).gpu_layout
    case_slots = build.case.expansion_slots if build.case is not None else None
    rows = _rows(board, placement, case_slots or 0)
    height_mm = SLOT_PITCH_MM * (len(rows) + 0.5)  # + half a pitch: the last card's cooler
    width = _X_NOTES + _NOTES_PX
    top = 34.0
    body_h = PX_PER_MM * height_mm
    out = [_svg_open(width, top + body_h + 56, f"Slot map: {board.name}")]
    out.append(_t(8, 20, f"{board.name} — expansion slots to scale", 14, "font-weight='600'"))
    out.append(
        f"<rect x='{_LEFT - 8:.1f}' y='{top:.1f}' width='{width - _LEFT - 4:.1f}' "
        f"height='{body_h:.1f}' fill='{_COLOURS['board']}' rx='4'/>"
    )
    for i, row in enumerate(rows):
        out.extend(_slot_row(row, top + i * SLOT_PITCH_MM * PX_PER_MM))
    out.extend(_cards(rows, placement, top, board))
    out.extend(_gaps_and_bridges(build, placement, top, width))
    if case_slots is not None:
        out.extend(_case_limit(case_slots, placement, top, width))
    legend_y = top + body_h + 20
    out.append(_legend(legend_y, placement))
    if m2_hosted:
        legend_y += 16
        where = ", ".join(f"{build.gpus[i].name} in {m2.name}" for i, m2 in m2_hosted)
        out.append(_t(8, legend_y + 6, f"on M.2-to-PCIe adapters: {where}", 12))
    if placement.unplaced:
        names = ", ".join(sorted({g.name for g in placement.unplaced}))
        out.append(
            _t(
                8,
                legend_y + 22,
                f"{len(placement.unplaced)} GPU(s) without a slot: {names}",
                12,
                f"fill='{_COLOURS['blocked']}'",
            )
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _rows(board: Motherboard, placement: limits.Placement, min_rows: int = 0) -> list[_Row]:
    by_pos = {s.position: s for s in board.pcie_slots}
    seated = {
        s.position: (g, lanes)
        for (g, s), lanes in zip(placement.placed, placement.lanes, strict=True)
    }
    covered: dict[int, Gpu] = {}
    for (g, s), riser in zip(placement.placed, _on_riser(placement), strict=True):
        for p in range(s.position + 1, s.position + (1 if riser else _width(g))):
            covered[p] = g
    last = max([*by_pos, *covered, placement.bottom, min_rows, 1])
    rows = []
    for p in range(1, last + 1):
        g_l = seated.get(p)
        rows.append(
            _Row(p, by_pos.get(p), g_l[0] if g_l else None, g_l[1] if g_l else None, covered.get(p))
        )
    return rows


def _width(g: Gpu) -> int:
    return g.slots_occupied or limits.DEFAULT_SLOT_WIDTH


def _on_riser(placement: limits.Placement) -> tuple[bool, ...]:
    """Per placed card, whether it sits on a riser (its body is off the board, on a frame)."""
    flags = placement.on_riser
    return flags if len(flags) == len(placement.placed) else (False,) * len(placement.placed)


def _slot_row(row: _Row, y: float) -> list[str]:
    pitch = SLOT_PITCH_MM * PX_PER_MM
    mid = y + pitch / 2
    out = [_t(8, mid + 4, f"slot {row.position}", 12, "fill='#52606d'")]
    if row.slot is None:
        return out
    s = row.slot
    length = CONNECTOR_MM.get(s.size, CONNECTOR_MM[16]) * PX_PER_MM
    out.append(
        f"<rect x='{_LEFT:.1f}' y='{mid - 4:.1f}' width='{length:.1f}' height='8' "
        f"fill='{_COLOURS['slot']}' rx='2'><title>{escape(_slot_title(s))}</title></rect>"
    )
    lanes = row.lanes if row.seated is not None else s.lanes
    label = f"x{s.size} slot, {'?' if lanes is None else f'x{lanes}'} lanes"
    if s.source:
        label += f" ({s.source}{f', gen {s.gen}' if s.gen else ''})"
    x_label = _X_LANES
    out.append(_t(x_label, mid + 4, label, 11, "fill='#1d2330'"))
    if row.covered_by is not None and row.seated is None:
        out.append(
            _t(x_label, mid + 16, "blocked by the card above", 10, f"fill='{_COLOURS['blocked']}'")
        )
    return out


def _slot_title(s: PcieSlot) -> str:
    name = f"{s.name}: " if s.name else ""
    lanes = "unknown" if s.lanes is None else f"x{s.lanes}"
    return f"{name}slot {s.position}, x{s.size} size, {lanes} electrical"


def _cards(
    rows: list[_Row], placement: limits.Placement, top: float, board: Motherboard
) -> list[str]:
    pitch = SLOT_PITCH_MM * PX_PER_MM
    out = []
    for (g, s), riser in zip(placement.placed, _on_riser(placement), strict=True):
        y = top + (s.position - 1) * pitch + pitch / 2 - 6  # the card's PCB sits at the slot
        if riser:
            out.extend(_riser_card(g, y, pitch))
            continue
        thickness = g.slot_width or float(limits.DEFAULT_SLOT_WIDTH)
        assumed = g.slot_width is None
        h = thickness * pitch
        colour = _COLOURS["card_assumed"] if assumed else _COLOURS["card"]
        x = _LEFT + _CARD_X_MM * PX_PER_MM
        w = _CARD_MM * PX_PER_MM
        note = f"{thickness:g}-slot" + (" (assumed)" if assumed else "")
        out.append(
            f"<rect x='{x:.1f}' y='{y:.1f}' width='{w:.1f}' height='{h - 3:.1f}' fill='{colour}' "
            f"fill-opacity='0.85' rx='5'><title>{escape(g.name)}, {note}</title></rect>"
        )
        out.append(_t(x + 8, y + 17, _fit(g.name, w - 16), 12, "fill='#fff' font-weight='600'"))
        out.append(
            _t(x + 8, y + 32, note + (f", {g.cooling}" if g.cooling else ""), 11, "fill='#fff'")
        )
    return out


def _riser_card(g: Gpu, y: float, pitch: float) -> list[str]:
    """A card on a riser: the cable's plug in the slot, the card itself off the board (it covers
    no slot below, so no slot is blocked and no air gap is judged on the board)."""
    x = _LEFT + _CARD_X_MM * PX_PER_MM
    w = _CARD_MM * PX_PER_MM
    return [
        f"<rect x='{x:.1f}' y='{y:.1f}' width='{w:.1f}' height='{pitch - 6:.1f}' "
        f"fill='{_COLOURS['riser']}' fill-opacity='0.9' rx='5'><title>{escape(g.name)}, on a "
        "riser cable: the card sits off the board</title></rect>",
        _t(x + 8, y + 17, _fit(g.name, w - 16), 12, "fill='#fff' font-weight='600'"),
        _t(x + 8, y + 32, "on a riser: card off the board", 11, "fill='#fff'"),
    ]


def _fit(text: str, width_px: float, char_px: float = 6.8) -> str:
    """Shorten ``text`` to about ``width_px`` at ~``char_px`` per character (SVG cannot wrap)."""
    n = max(int(width_px / char_px), 4)
    return text if len(text) <= n else text[: n - 1] + "…"


def _gaps_and_bridges(
    build: Build, placement: limits.Placement, top: float, width: float
) -> list[str]:
    """Air gaps (a free slot between two cards) in green, cards touching in red, and NVLink
    bridges at the spacings bridges come in (as in the nvlink-p2p rule)."""
    pitch = SLOT_PITCH_MM * PX_PER_MM
    x_mark = _X_NOTES + 150  # the notes column (the calls below subtract 150)
    out = []
    cards = zip(placement.placed, _on_riser(placement), strict=True)
    for ((g1, s1), r1), ((g2, s2), r2) in pairwise(cards):
        if r1 or r2:
            continue  # a card on a riser sits on a frame: no board air gap, no bridge spacing
        gap = s2.position - s1.position - _width(g1)
        y = top + (s2.position - 1) * pitch - 2  # at the boundary above the lower card
        if gap >= 1:
            out.append(
                _t(x_mark - 150, y, f"air gap: {gap} slot(s)", 10, f"fill='{_COLOURS['gap']}'")
            )
        elif g1.cooling == "blower" and g2.cooling == "blower":
            # blowers exhaust out of the back bracket: stacking them is what they are made for
            out.append(_t(x_mark - 150, y, "no air gap (blowers)", 10, "fill='#52606d'"))
        else:
            out.append(
                _t(
                    x_mark - 150,
                    y,
                    "no air gap: cards touch",
                    10,
                    f"fill='{_COLOURS['blocked']}' font-weight='600'",
                )
            )
        spacing = s2.position - s1.position
        spacings = _bridge_spacings(build, g1, g2)
        if spacings and spacing not in spacings:
            sizes = "/".join(map(str, spacings))
            note = f"no NVLink bridge for {spacing}-slot spacing ({sizes} exist)"
            out.append(_t(_X_NOTES, y + 12, note, 10, f"fill='{_COLOURS['bridge']}'"))
        if spacings and spacing in spacings:
            y1 = top + (s1.position - 1) * pitch + pitch / 2
            y2 = top + (s2.position - 1) * pitch + pitch / 2
            x = _LEFT + (_CARD_X_MM + _CARD_MM) * PX_PER_MM - 20
            out.append(
                f"<path d='M{x:.1f},{y1:.1f} h12 V{y2:.1f} h-12' fill='none' "
                f"stroke='{_COLOURS['bridge']}' stroke-width='4'><title>NVLink bridge, "
                f"{spacing}-slot spacing</title></path>"
            )
    return out


def _bridge_spacings(build: Build, g1: Gpu, g2: Gpu) -> tuple[int, ...]:
    """The slot spacings NVLink bridges come in for this pair (as the nvlink-p2p rule reads
    them), or () when the pair cannot be bridged (different models, no NVLink)."""
    if g1.id != g2.id:
        return ()
    chip = build.chip(g1)
    has = g1.nvlink if g1.nvlink is not None else bool(chip and chip.nvlink)
    if not has or chip is None:
        return ()
    if "geforce" in chip.name.lower():
        return limits.NVLINK_SPACING_GEFORCE
    return limits.NVLINK_SPACING_PRO


def _case_limit(
    case_slots: int, placement: limits.Placement, top: float, width: float
) -> list[str]:
    """A dashed line where the case's expansion slots end: a card drawn across it does not fit."""
    y = top + case_slots * SLOT_PITCH_MM * PX_PER_MM
    over = placement.bottom > case_slots
    colour = _COLOURS["blocked"] if over else "#52606d"
    out = [
        f"<line x1='{_LEFT - 8:.1f}' y1='{y:.1f}' x2='{width - 12:.1f}' y2='{y:.1f}' "
        f"stroke='{colour}' stroke-width='2' stroke-dasharray='6 4'/>",
        _t(_X_NOTES, y - 3, f"end of the case's {case_slots} expansion slots", 10,
           f"fill='{colour}'"),
    ]  # fmt: skip
    if over:
        out.append(
            _t(
                _X_NOTES,
                y + 11,
                f"the cards reach slot {placement.bottom}: they do not fit",
                10,
                f"fill='{colour}' font-weight='600'",
            )
        )
    return out


def _legend(y: float, placement: limits.Placement) -> str:
    items = [
        ("card", "GPU at its thickness"),
        ("slot", "PCIe slot (length = size)"),
        ("bridge", "NVLink bridge"),
    ]
    if any(_on_riser(placement)):
        items.insert(1, ("riser", "GPU on a riser (off the board)"))
    if placement.assumed_width:
        items.insert(1, ("card_assumed", f"thickness unknown: {limits.DEFAULT_SLOT_WIDTH} assumed"))
    parts, x = [], 8.0
    for key, text in items:
        parts.append(
            f"<rect x='{x:.1f}' y='{y - 10:.1f}' width='14' height='10' fill='{_COLOURS[key]}'/>"
        )
        parts.append(_t(x + 18, y, text, 11))
        x += 26 + 6.4 * len(text)
    return "".join(parts)


# --- power budget -----------------------------------------------------------------------------
def power_bar_svg(build: Build) -> str:
    """Two bars: the DC load (CPU, GPUs, rest of the system) against the PSU rating and the PSU
    the headroom rule asks for, and the draw at the wall against the circuit's continuous limit."""
    cpu_w = float(build.cpu.tdp_w) if build.cpu else 0.0
    gpu_w = build.gpu_power_w  # at their power limits (power_limit_w), as the power rules count
    rest_w = build.system_allowance_w
    peak = cpu_w + gpu_w + rest_w
    psu = build.psu
    # several PSUs on several circuits: their ratings and the circuits they use, added up (the
    # bars drew every GPU against PSU 1 and circuit 1)
    psus, loads = build.psus, build.psu_loads
    psu_w = float(sum(p.wattage_w for p in psus)) if psus else None
    needed = limits.psu_required_w(cpu_w, [gpu_w], rest_w)
    eff, assumed = limits.psu_efficiency(psu.efficiency if psu else None)
    wall = units.wall_power_w(peak, eff)
    circuit = build.site.continuous_limit_w
    used = sorted({ld.circuit_index for ld in loads if ld.circuit_index < len(build.site.circuits)})
    if len(psus) > 1:
        wall = sum(
            units.wall_power_w(ld.load_w, limits.psu_efficiency(ld.psu.efficiency)[0])
            for ld in loads
        )
        circuit = sum(build.site.circuit_limit_w(i) for i in used)
    scale_w = max(peak, needed, wall, circuit, psu_w or 0.0) * 1.08
    width, x0, bar_w = 720.0, 150.0, 540.0

    def px(w: float) -> float:
        return x0 + bar_w * w / scale_w

    out = [_svg_open(width, 150, "Power budget")]
    out.append(_t(8, 20, "Power budget", 14, "font-weight='600'"))
    # bar 1: DC load vs PSU
    y1 = 40.0
    out.append(_t(8, y1 + 15, "DC load vs PSU", 12))
    x = x0
    segs = [
        ("cpu", "CPU", cpu_w),
        ("gpu", f"{build.gpu_count} GPU(s)", gpu_w),
        ("rest", "rest", rest_w),
    ]
    for key, label, w in segs:
        if w <= 0:
            continue
        seg = bar_w * w / scale_w
        out.append(
            f"<rect x='{x:.1f}' y='{y1:.1f}' width='{seg:.1f}' height='22' fill='{_COLOURS[key]}'>"
            f"<title>{escape(label)}: {w:,.0f} W</title></rect>"
        )
        if seg > 52:
            out.append(_t(x + 4, y1 + 15, f"{label} {w:,.0f} W", 11, "fill='#fff'"))
        x += seg
    if x - x0 < 120:  # too short for labels inside: say the total after it
        out.append(_t(x + 4, y1 + 15, f"{peak:,.0f} W peak", 11, "fill='#1d2330'"))
    if psu_w is not None:
        out.append(
            _marker(
                px(psu_w),
                y1 - 4,
                30,
                _COLOURS["psu"],
                f"PSU {psu_w:,.0f} W" if len(psus) == 1 else f"{len(psus)} PSUs {psu_w:,.0f} W",
                above=False,
            )
        )
    out.append(
        _marker(
            px(needed),
            y1 - 4,
            30,
            _COLOURS["limit"],
            f"needed {needed:,.0f} W (×{limits.PSU_HEADROOM:g})",
            dash=True,
        )
    )
    # bar 2: wall draw vs circuit
    y2 = 100.0
    out.append(_t(8, y2 + 15, "wall vs circuit", 12))
    colour = _COLOURS["limit"] if wall > circuit else _COLOURS["gpu"]
    out.append(
        f"<rect x='{x0:.1f}' y='{y2:.1f}' width='{bar_w * wall / scale_w:.1f}' height='22' "
        f"fill='{colour}' fill-opacity='0.8'><title>wall draw {wall:,.0f} W</title></rect>"
    )
    eff_text = f"PSU {eff:.0%}" + (" assumed" if assumed else "")
    wall_text = f"{wall:,.0f} W at the wall ({eff_text})"
    wall_px = bar_w * wall / scale_w
    if wall_px > 7 * len(wall_text):  # room inside the bar: white on the bar
        out.append(_t(x0 + 4, y2 + 15, wall_text, 11, "fill='#fff'"))
    else:  # a short bar: dark text after it
        out.append(_t(x0 + wall_px + 4, y2 + 15, wall_text, 11, "fill='#1d2330'"))
    site = build.site
    where = f"{site.mains_voltage_v:g} V × {site.circuit_amps:g} A × 80%"
    if len(psus) > 1 and len(used) > 1:
        where = " + ".join(f"{v:g} V × {a:g} A" for v, a in (site.circuits[i] for i in used))
        where += " × 80%"
    out.append(
        _marker(
            px(circuit),
            y2 - 4,
            30,
            _COLOURS["limit"],
            f"circuit {circuit:,.0f} W ({where})",
            above=False,
        )
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _marker(
    x: float, y: float, h: float, colour: str, label: str, above: bool = True, dash: bool = False
) -> str:
    style = " stroke-dasharray='4 3'" if dash else ""
    ty = y - 3 if above else y + h + 11
    anchor = "end" if x > 520 else "start"
    tx = x - 3 if anchor == "end" else x + 3
    return (
        f"<line x1='{x:.1f}' y1='{y:.1f}' x2='{x:.1f}' y2='{y + h:.1f}' stroke='{colour}' "
        f"stroke-width='2'{style}/>"
        + _t(tx, ty, label, 10, f"fill='{colour}' text-anchor='{anchor}'")
    )


def _svg_open(width: float, height: float, title: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width:.0f} {height:.0f}' "
        f"width='{width:.0f}' height='{height:.0f}' role='img' aria-label='{escape(title)}'>"
        f"<title>{escape(title)}</title>"
    )


def _message_svg(title: str, message: str) -> str:
    return (
        _svg_open(480, 40, title)
        + _t(8, 24, f"{title}: {message}", 12, "fill='#667085'")
        + "</svg>\n"
    )
