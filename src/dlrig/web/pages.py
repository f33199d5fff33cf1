"""The HTML pages: each form is the command's request model (read with
:meth:`~dlrig.app.base.Request.from_form`), each result the dict its JSON API answers, rendered
with a Jinja2 template. A bad field re-renders the page with the message the CLI prints."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from dlrig.app import catalog as app_catalog
from dlrig.app import check, cost, gpus, plan, size
from dlrig.cost import VERSUS
from dlrig.errors import DlrigError, MissingExtraError, PartNotFoundError
from dlrig.parts import Category
from dlrig.perf import INTERCONNECTS
from dlrig.sizing import RANK_SORT_KEYS as SORTS
from dlrig.web.security import run_guarded
from dlrig.workload import FRAMEWORKS, OPTIMIZERS, PRECISIONS, TASKS

if TYPE_CHECKING:
    from dlrig.app.base import Command
    from dlrig.catalog import Catalog
    from dlrig.web.app import Catalogs

__all__ = ["add_pages", "cost_result", "form_label"]

EXAMPLE_BUILD = "warmachine.yaml"  # a copy of examples/warmachine.yaml (a test keeps it equal)
COST_TOP = 12  # cloud rows on the cost page, as `dlrig cost` shows by default
# Columns the catalog page shows per category: (header, field of the part's JSON). "kit" and
# "x16" are computed in the template.
PART_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "cpu": [("cores", "cores"), ("threads", "threads"), ("socket", "socket"),
            ("TDP W", "tdp_w"), ("PCIe lanes", "pcie_lanes")],
    "motherboard": [("socket", "socket"), ("chipset", "chipset"),
                    ("form factor", "form_factor"), ("memory", "memory_type"),
                    ("PCIe slots", "slots")],
    "memory": [("type", "type"), ("MT/s", "speed_mts"), ("kit", "kit"), ("ECC", "ecc"),
               ("RDIMM", "registered")],
    "gpu": [("chip", "chip"), ("VRAM GiB", "vram_gib"), ("TDP W", "tdp_w"),
            ("length mm", "length_mm"), ("slots", "slot_width"), ("cooling", "cooling")],
    "storage": [("kind", "kind"), ("capacity GB", "capacity_gb"),
                ("read MB/s", "seq_read_mb_s"), ("form factor", "form_factor")],
    "psu": [("W", "wattage_w"), ("rating", "efficiency"), ("6+2-pin", "pcie_8pin"),
            ("12V-2x6", "pcie_12vhpwr"), ("ATX 3", "atx3")],
    "cooler": [("kind", "kind"), ("height mm", "height_mm"), ("radiator mm", "radiator_mm"),
               ("rated W", "rated_tdp_w")],
    "case": [("type", "form_factor"), ("max GPU mm", "max_gpu_length_mm"),
             ("slots", "expansion_slots"), ("max cooler mm", "max_cooler_height_mm")],
}  # fmt: skip


def form_label(page_html: str, field: str | None) -> str | None:
    """The label of the form field named ``field`` on a rendered page (None: no such field)."""
    if field is None:
        return None
    found = re.search(
        rf'<label[^>]*>([^<]*)<(?:input|select|textarea)\b[^>]*\bname="{re.escape(field)}"',
        page_html,
    )
    text = " ".join(html.unescape(found.group(1)).split()) if found else ""
    return text or None


def add_pages(app: FastAPI, catalogs: Catalogs, templates: Jinja2Templates) -> None:
    """Register every HTML page."""
    from dlrig.web.app import PACKAGE_DIR, error_dict, error_status

    example = (PACKAGE_DIR / "static" / EXAMPLE_BUILD).read_text(encoding="utf-8")

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context, status_code=status)

    def result_page(
        request: Request, name: str, work: Callable[[Catalog], dict[str, Any]], **context: Any
    ) -> HTMLResponse:
        """Render ``name`` with ``work(catalog)``'s result merged in, or with its error."""
        try:
            result = work(catalogs.get())
        except DlrigError as exc:
            shown = page(request, name, error_status(exc), **context, error=error_dict(exc))
            label = form_label(bytes(shown.body).decode("utf-8"), exc.field)
            if label is None:
                return shown
            # the field as the page names it ("GPUs now: 0 is outside 1-8", not "gpus: ...")
            return page(request, name, error_status(exc), **context,
                        error=error_dict(exc.naming(label)))  # fmt: skip
        return page(request, name, **{**context, **result})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        cat = catalogs.get()
        counts = {c.value: len(cat.parts(c)) for c in Category}
        return page(
            request, "home.html", catalog_name=cat.name, counts=counts,
            n_chips=len(cat.chips), n_rules=len(app_catalog.rules().rules),
        )  # fmt: skip

    @app.get("/catalog", response_class=HTMLResponse, include_in_schema=False)
    def catalog_page(request: Request) -> HTMLResponse:
        qp = request.query_params
        category = qp.get("category") or None
        q = qp.get("q") or None
        filters = [f for f in qp.getlist("filter") if f.strip()]
        limit, price_only = qp.get("limit") or None, qp.get("price_only") or None

        def work(cat: Catalog) -> dict[str, Any]:
            req = app_catalog.PartsRequest.parse(
                category=category, q=q, filter=filters, limit=limit, price_only=price_only
            )
            found = app_catalog.run(req, cat)
            # a search shows SEARCH_LIMIT matches: say how many there are (never cut silently)
            return {"parts": found.to_dict(), "total": found.total or len(found.parts)}

        return result_page(
            request, "catalog.html", work, categories=[c.value for c in Category],
            columns=PART_COLUMNS.get(category or "", []), category=category or "", q=q or "",
            filters=filters, limit=limit or "", price_only=bool(price_only), parts=None,
            total=None,
        )  # fmt: skip

    @app.get("/parts/{part}", response_class=HTMLResponse, include_in_schema=False)
    def part_page(request: Request, part: str) -> HTMLResponse:
        try:
            detail = app_catalog.show(app_catalog.ShowRequest.parse(part=part), catalogs.get())
        except PartNotFoundError as exc:
            return page(request, "error.html", 404, error=error_dict(exc))
        data = detail.to_dict()
        chip = data.pop("chip_spec", None)
        return page(request, "part.html", part=data, chip=chip)

    @app.get("/check", response_class=HTMLResponse, include_in_schema=False)
    def check_form(request: Request) -> HTMLResponse:
        return page(request, "check.html", text=example, gpus="", result=None, parts=None,
                    power=None, unpriced=[])  # fmt: skip

    @app.post("/check", response_class=HTMLResponse, include_in_schema=False)
    async def check_submit(request: Request) -> HTMLResponse:
        form = await _form(request)
        text = form.get("build", "")

        def work(cat: Catalog) -> dict[str, Any]:
            from dlrig.web.buildview import part_rows, power_tables

            req = check.CheckRequest.from_form(form, build=text)
            checked = check.run(req, cat, read_files=False)
            build = checked.build
            return {"result": checked.to_dict(), "parts": part_rows(build),
                    "power": power_tables(build),
                    "unpriced": [p.name for p in build.unpriced]}  # fmt: skip

        return await run_in_threadpool(
            result_page, request, "check.html", work, text=text, gpus=form.get("gpus", ""),
            result=None, parts=None, power=None, unpriced=[],
        )  # fmt: skip

    @app.get("/size", response_class=HTMLResponse, include_in_schema=False)
    def size_page(request: Request) -> HTMLResponse:
        form = dict(request.query_params)
        context: dict[str, Any] = {
            "form": form, "models": app_catalog.presets().to_dict(),
            "chips": [c.name for c in catalogs.get().chips], "tasks": TASKS,
            "precisions": PRECISIONS, "optimizers": OPTIMIZERS, "interconnects": INTERCONNECTS,
            "sorts": SORTS, "frameworks": FRAMEWORKS, "result": None, "ranking": None,
        }  # fmt: skip
        if not (form.get("model") or form.get("workload", "").strip()):
            return page(request, "size.html", **context)

        def work(cat: Catalog) -> dict[str, Any]:
            sized = size.run(size.SizeRequest.from_form(form), cat, read_files=False)
            ranked = gpus.run(gpus.GpusRequest.from_form(form), cat, read_files=False)
            return {"result": sized.to_dict(), "ranking": ranked.to_dict()}

        return result_page(request, "size.html", work, **context)

    @app.get("/cost", response_class=HTMLResponse, include_in_schema=False)
    def cost_form(request: Request) -> HTMLResponse:
        return page(request, "cost.html", text=example, form={}, result=None, vs_choices=VERSUS)

    @app.post("/cost", response_class=HTMLResponse, include_in_schema=False)
    async def cost_submit(request: Request) -> HTMLResponse:
        form = await _form(request)
        text = form.get("build", "")

        def work(cat: Catalog) -> dict[str, Any]:
            return cost_result(form, text, cat)

        return await run_in_threadpool(
            result_page, request, "cost.html", work, text=text, form=form, result=None,
            vs_choices=VERSUS,
        )  # fmt: skip

    if plan.planner_available():
        _add_plan_page(app, page, result_page)
    _add_generic_pages(app, page, result_page, templates, example)


Page = Callable[..., HTMLResponse]


def _add_plan_page(app: FastAPI, page: Page, result_page: Page) -> None:
    """GET /plan (a GET form: plans are bookmarkable)."""
    from dlrig.optimize.plan import OBJECTIVES
    from dlrig.web.api import capped

    @app.get("/plan", response_class=HTMLResponse, include_in_schema=False)
    async def plan_page(request: Request) -> HTMLResponse:
        form = dict(request.query_params)
        context: dict[str, Any] = {
            "form": form,
            "result": None,
            "build_text": None,
            "power": None,
            "objectives": OBJECTIVES,
            "tasks": TASKS,
            "precisions": [(p, p) for p in PRECISIONS],
            "models": app_catalog.presets().to_dict(),
        }
        if not form.get("budget_usd") and form.get("objective") != "cost":
            return page(request, "plan.html", **context)

        def work(cat: Catalog) -> dict[str, Any]:
            from dlrig.buildfile import dump_build
            from dlrig.web.buildview import power_tables

            result = plan.run(capped(plan.PlanRequest.from_form(form)), cat, read_files=False)
            best = result.best
            # the best build's PSU and circuit figures: why a cap was needed, and what it buys
            return {"result": result.to_dict(),
                    "build_text": dump_build(best.build) if best is not None else None,
                    "power": power_tables(best.build) if best is not None else None}  # fmt: skip

        # a time budget for the whole plan; the solver stops when the browser goes away
        return await run_guarded(
            request, lambda: result_page(request, "plan.html", work, **context)
        )


def _add_generic_pages(
    app: FastAPI, page: Page, result_page: Page, templates: Jinja2Templates, example: str
) -> None:
    """The page ``/NAME`` for every command of dlrig.app without one: a form generated from its
    request model (a text area for its ``text_field``), and its result as tables. The menu
    lists them after the hand-made pages."""
    from dlrig.app import commands

    taken = {getattr(r, "path", None) for r in app.routes}
    more: list[str] = []
    templates.env.globals["more_pages"] = more
    for command in commands().values():
        if command.name == "plan" and not plan.planner_available():
            continue  # without OR-Tools a Plan page could only say "install dlrig[plan]"
        if command.web and f"/{command.name}" not in taken:
            more.append(command.name)
            methods = ["GET"] if command.text_field is None else ["GET", "POST"]
            handler = _generic_page(command, page, result_page, example)
            app.add_api_route(f"/{command.name}", handler,
                              methods=methods, response_class=HTMLResponse,
                              include_in_schema=False)  # fmt: skip


def _generic_page(
    command: Command, page: Page, result_page: Page, example: str
) -> Callable[..., Any]:
    fields = [_form_field(name, info) for name, info in command.request.model_fields.items()]

    async def generic(request: Request) -> HTMLResponse:
        form = dict(request.query_params)
        if request.method == "POST":
            form.update(await _form(request))
        context = {"command": command, "fields": fields, "form": form, "result": None}
        if not form.pop("run", None):
            if command.text_field == "build":  # start from the example build, as /check does
                form[command.text_field] = example
            return page(request, "command.html", **context)

        def work(cat: Catalog) -> dict[str, Any]:
            req = command.request.from_form(form)
            data = command.run(req, cat, read_files=False).to_dict()
            return {"result": data, **_tables(data)}

        return await run_in_threadpool(result_page, request, "command.html", work, **context)

    return generic


def _form_field(name: str, info: Any) -> dict[str, Any]:
    default = info.get_default(call_default_factory=True)
    kind = "bool" if info.annotation is bool else "text"
    placeholder = "" if default in (None, [], {}) else str(default)
    return {"name": name, "label": name.replace("_", " "), "help": info.description or "",
            "kind": kind, "placeholder": placeholder}  # fmt: skip


def _tables(data: Any) -> dict[str, Any]:
    """A result's JSON as the generic page shows it: plain fields, then each list of objects."""
    if isinstance(data, list):
        data = {"items": data}
    plain: list[tuple[str, Any]] = []
    lists: list[tuple[str, list[Any], list[str]]] = []
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lists.append((key, value, list(dict.fromkeys(k for row in value for k in row))))
        elif isinstance(value, dict):
            plain += [(f"{key}.{k}", v) for k, v in value.items()]
        else:
            plain.append((key, value))
    return {"fields_table": plain, "lists": lists}


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body as {name: last value} (no python-multipart needed)."""
    from dlrig.web.app import body_text

    text = await body_text(request)
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


def cost_result(form: dict[str, str], text: str, cat: Catalog) -> dict[str, Any]:
    """The cost page's result for a build file's text and the page's fields (also the saved
    builds' cost links)."""
    fields = {("versus" if k == "vs" else k): v for k, v in form.items()}
    report = cost.run(cost.CostRequest.from_form(fields, build=text), cat, False)
    data = report.to_dict()
    chart, chart_note = None, None
    try:
        svg = cost.cost_svg(report)
        chart = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    except MissingExtraError as exc:
        chart_note = f"{exc.message} ({exc.hint})"
    return {"result": data, "rows": _cost_rows(data), "chart": chart, "chart_note": chart_note}


def _cost_rows(d: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows `dlrig cost` shows: the build, every prebuilt, the cheapest cloud options."""
    opts = d["options"]
    prebuilt = [o for o in opts if o["kind"] == "prebuilt"]
    cloud = sorted((o for o in opts if o["kind"] != "prebuilt"), key=lambda o: o["total_usd"])
    return [d["own"], *prebuilt, *cloud[:COST_TOP]]
