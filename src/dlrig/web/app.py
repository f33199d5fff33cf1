"""The web app: a JSON API under ``/api`` and a few HTML pages, over the same library as the CLI.

``create_app(catalog_path)`` builds a FastAPI app. Every endpoint parses its input, calls one
function of :mod:`dlrig.web.service` (which calls the library function the matching CLI
command calls) and returns the dict that command prints with ``--json``; a page renders that
same dict with a Jinja2 template. Bad input answers HTTP 422 (400 for a body that is not
text or JSON) with the message and hint the CLI prints, never a traceback::

    {"error": "BuildFileError", "message": "<build>:4: parts.cpu: unknown part ...",
     "hint": "did you mean ...?", "line": 4}

The catalog is opened once when the app is created (a bad ``--catalog`` fails at start-up) and
again per worker thread, because an imported SQLite store's connection belongs to its thread.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from dlrig import __version__
from dlrig.catalog import Catalog, open_catalog
from dlrig.cost import VERSUS
from dlrig.errors import (
    BuildFileError,
    DlrigError,
    InputError,
    MissingExtraError,
    PartNotFoundError,
)
from dlrig.parts import Category
from dlrig.sizing import INTERCONNECTS
from dlrig.sizing import RANK_SORT_KEYS as SORTS
from dlrig.units import human_count, human_hours
from dlrig.web import service
from dlrig.workload import OPTIMIZERS, PRECISIONS, TASKS, Workload, workload_from_flags

__all__ = ["create_app"]

PACKAGE_DIR = Path(str(resources.files("dlrig.web")))
EXAMPLE_BUILD = "warmachine.yaml"  # a copy of examples/warmachine.yaml (a test keeps it equal)
OBJECTIVES = ("throughput", "vram", "throughput-per-dollar", "cost")
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
COST_TOP = 12  # cloud rows on the cost page, as `dlrig cost` shows by default


class _Catalogs:
    """One open catalog per thread (an SQLite store's connection may not cross threads)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = path
        self._local = threading.local()
        self.first = open_catalog(path)
        self._local.catalog = self.first

    def get(self) -> Catalog:
        cat: Catalog | None = getattr(self._local, "catalog", None)
        if cat is None:
            cat = open_catalog(self.path)
            self._local.catalog = cat
        return cat


class SizeRequest(BaseModel):
    """Body of ``POST /api/size``: what ``dlrig size WORKLOAD --gpu G --gpus N`` takes."""

    model_config = ConfigDict(extra="forbid")

    workload: dict[str, Any] | str = Field(
        description="The fields of a workload file, or its YAML text."
    )
    gpu: str | None = Field(None, description="GPU chip (or card) name or id, fuzzy matched.")
    gpus: int = Field(1, ge=1, description="Number of GPUs.")
    interconnect: str = "pcie"
    utilization: float | None = None


class PlanRequest(BaseModel):
    """Body of ``POST /api/plan``: the ``dlrig plan`` options (names as in its ``--json``)."""

    model_config = ConfigDict(extra="forbid")

    budget_usd: float | None = Field(None, description="Budget in US dollars.")
    workload: dict[str, Any] | str | None = Field(
        None, description="A model preset name, the fields of a workload file, or its YAML text."
    )
    task: str | None = None
    objective: str = "throughput"
    gpus: int | None = None
    upgrade_to: int | None = None
    min_vram_gib: float | None = None
    min_tflops: float | None = None
    max_hours: float | None = None
    include: list[str] = []
    exclude: list[str] = []
    cooling: list[str] = []
    circuit: str | None = Field(None, description="Wall circuit VOLTSxAMPS, e.g. 230x16.")
    allow: list[str] = []
    alternatives: int = Field(0, ge=0, le=10)
    frontier: bool = False
    explain: bool = True
    time_limit: float = Field(10.0, gt=0, le=60, description="Solver seconds per solve.")

    def plan_kwargs(self) -> dict[str, Any]:
        d = self.model_dump()
        d["time_limit_s"] = d.pop("time_limit")
        d["cooling"] = d["cooling"] or None
        return d


def create_app(
    catalog_path: str | Path | None = None, db_path: str | Path | None = None
) -> FastAPI:
    """The dlrig web app over the catalog at ``catalog_path`` ($DLRIG_CATALOG, else built-in);
    saved builds go to the SQLite file ``db_path`` (default: the user data folder, on first
    save)."""
    catalogs = _Catalogs(catalog_path)
    app = FastAPI(
        title="dlrig",
        version=__version__,
        description="Check, size, cost and plan a self-built deep-learning machine.",
        docs_url=None,  # the Swagger UI loads from a CDN; /openapi.json stays
        redoc_url=None,
    )
    app.state.catalogs = catalogs
    templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))
    _add_filters(templates)
    app.mount("/static", StaticFiles(directory=str(PACKAGE_DIR / "static")), name="static")
    _add_error_handlers(app, templates)
    _add_api(app, catalogs)
    _add_pages(app, catalogs, templates)
    from dlrig.web import editor, saved  # the build editor, saved builds and share links

    app.state.build_store = saved.StoreHolder(db_path)
    app.include_router(editor.router(catalogs, templates))
    app.include_router(saved.router(catalogs, templates))
    return app


# --- errors -----------------------------------------------------------------------------------
def error_dict(exc: DlrigError) -> dict[str, Any]:
    """The JSON body of an error: its kind, the CLI's message and hint, and where known the line."""
    out: dict[str, Any] = {"error": type(exc).__name__, "message": exc.message, "hint": exc.hint}
    if isinstance(exc, BuildFileError) and exc.line is not None:
        out["line"] = exc.line
    if isinstance(exc, PartNotFoundError) and exc.candidates:
        out["candidates"] = exc.candidates
    return out


class BadRequestError(InputError):
    """A body that cannot be read at all (HTTP 400)."""


def error_status(exc: DlrigError) -> int:
    if isinstance(exc, BadRequestError):
        return 400
    if isinstance(exc, InputError | PartNotFoundError):
        return 422
    if isinstance(exc, MissingExtraError):
        return 501
    return 500  # a broken catalog or store: the server's problem, not the request's


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _add_error_handlers(app: FastAPI, templates: Jinja2Templates) -> None:
    from starlette.exceptions import HTTPException as StarletteHTTPException

    async def on_dlrig_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DlrigError)
        status = error_status(exc)
        if _is_api(request):
            return JSONResponse(error_dict(exc), status_code=status)
        return templates.TemplateResponse(
            request, "error.html", {"error": error_dict(exc)}, status_code=status
        )

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            detail = first.get("ctx", {}).get("error", "")
            body = {
                "error": "InputError",
                "message": "the request body is not valid JSON" + (f": {detail}" if detail else ""),
                "hint": "send a JSON object (see docs/web.md)",
            }
            return JSONResponse(body, status_code=400)
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
        if first.get("type") == "extra_forbidden":
            message = f"unknown field '{where}'"
        else:
            message = f"{where or 'request'}: {first.get('msg', 'invalid value')}"
        kind = "query parameter" if first.get("loc", ("",))[0] == "query" else "field"
        body = {
            "error": "InputError",
            "message": message,
            "hint": f"fix the {kind} '{where}' (see docs/web.md)" if where else "see docs/web.md",
        }
        return JSONResponse(body, status_code=422)

    async def on_internal_error(request: Request, exc: Exception) -> Response:
        body = {
            "error": "InternalError",
            "message": f"internal error: {type(exc).__name__}: {exc}",
            "hint": "please report it, with the input that caused it",
        }
        if _is_api(request):
            return JSONResponse(body, status_code=500)
        return templates.TemplateResponse(request, "error.html", {"error": body}, status_code=500)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        # Unknown routes and wrong methods: the API answers in its own error shape too.
        assert isinstance(exc, StarletteHTTPException)
        body = {
            "error": "NotFound" if exc.status_code == 404 else "HTTPError",
            "message": f"{request.method} {request.url.path}: {exc.detail}",
            "hint": "see docs/web.md for the endpoints (or /openapi.json)",
        }
        if _is_api(request):
            return JSONResponse(body, status_code=exc.status_code)
        return templates.TemplateResponse(
            request, "error.html", {"error": body}, status_code=exc.status_code
        )

    app.add_exception_handler(DlrigError, on_dlrig_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_internal_error)


async def _body_text(request: Request) -> str:
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequestError(
            "the request body is not UTF-8 text", "send the file as UTF-8"
        ) from None


# --- API --------------------------------------------------------------------------------------
def _add_api(app: FastAPI, catalogs: _Catalogs) -> None:
    @app.get("/api/catalog", tags=["catalog"])
    def api_catalog(
        category: str | None = None,
        q: str | None = None,
        filter: list[str] = Query(default=[]),
    ) -> list[dict[str, Any]]:
        """`dlrig catalog list -c CATEGORY -f FILTER --json`, or `catalog search Q` with q."""
        return service.catalog_parts(catalogs.get(), category, q, filter)

    @app.get("/api/parts/{part}", tags=["catalog"])
    def api_part(part: str) -> Response:
        """`dlrig catalog show PART --json`: an id or a (fuzzy) name; 404 when nothing matches."""
        try:
            return JSONResponse(service.part_detail(catalogs.get(), part))
        except PartNotFoundError as exc:
            return JSONResponse(error_dict(exc), status_code=404)

    @app.get("/api/chips", tags=["catalog"])
    def api_chips() -> list[dict[str, Any]]:
        """`dlrig catalog chips --json`."""
        return service.chips(catalogs.get())

    @app.get("/api/rules", tags=["check"])
    def api_rules() -> list[dict[str, Any]]:
        """`dlrig rules --json`."""
        return service.rules()

    @app.post("/api/check", tags=["check"])
    async def api_check(request: Request, gpus: int | None = Query(None, ge=1)) -> Any:
        """`dlrig check FILE [--gpus N] --json`; the body is the build file (YAML or JSON)."""
        text = await _body_text(request)
        return await run_in_threadpool(lambda: service.check_text(text, catalogs.get(), gpus))

    @app.get("/api/models", tags=["size"])
    def api_models() -> list[dict[str, Any]]:
        """`dlrig size --list-models --json`."""
        return service.model_presets()

    @app.post("/api/size", tags=["size"])
    def api_size(req: SizeRequest) -> dict[str, Any]:
        """`dlrig size WORKLOAD --gpu G --gpus N --json`."""
        return service.size_workload(
            catalogs.get(), req.workload, req.gpu, req.gpus, req.interconnect, req.utilization
        )

    @app.get("/api/gpus", tags=["size"])
    def api_gpus(
        model: str | None = None,
        task: str | None = None,
        precision: str | None = None,
        optimizer: str | None = None,
        batch: int | None = None,
        seq: int | None = None,
        checkpointing: bool | None = None,
        zero: int | None = None,
        lora_rank: int | None = None,
        tokens: str | None = None,
        samples: str | None = None,
        epochs: float | None = None,
        gpus: int = Query(1, ge=1),
        interconnect: str = "pcie",
        utilization: float | None = None,
        sort: str = "fit",
    ) -> dict[str, Any]:
        """`dlrig gpus --model M --task T ... --json`: every chip ranked for the workload."""
        workload: Workload | None = None  # as `dlrig gpus`: flags without a model are unused
        if model:
            workload = workload_from_flags(
                task=task, model=model, precision=precision, optimizer=optimizer, batch=batch,
                seq=seq, checkpointing=checkpointing, zero=zero, lora_rank=lora_rank,
                tokens=tokens, samples=samples, epochs=epochs,
            )  # fmt: skip
        return service.rank_gpus(catalogs.get(), workload, gpus, interconnect, utilization, sort)

    @app.post("/api/cost", tags=["cost"])
    async def api_cost(
        request: Request,
        hours_per_day: float | None = None,
        years: float | None = None,
        kwh_usd: float | None = None,
        vs: str = "all",
        run_hours: float | None = None,
        plot: str | None = Query(None, pattern="^svg$"),
    ) -> Response:
        """`dlrig cost FILE --json` (the body is the build file); with plot=svg, the chart."""
        text = await _body_text(request)

        def work() -> Response:
            cat = catalogs.get()
            report = service.cost_text(text, cat, hours_per_day, years, kwh_usd, vs, run_hours)
            if plot == "svg":
                return Response(service.cost_svg(report), media_type="image/svg+xml")
            return JSONResponse(report.to_dict())

        return await run_in_threadpool(work)

    _add_plan_api(app, catalogs)


def _add_plan_api(app: FastAPI, catalogs: _Catalogs) -> None:
    """POST /api/plan, when the planner exists in this install."""
    if not service.planner_available():
        return

    @app.post("/api/plan", tags=["plan"])
    def api_plan(req: PlanRequest, output: str | None = Query(None, pattern="^yaml$")) -> Any:
        """`dlrig plan --json`; with output=yaml, the best build's file (`-o build.yaml`)."""
        result = service.plan(catalogs.get(), **req.plan_kwargs())
        if output == "yaml":
            if result.best is None:
                raise InputError(
                    f"no build found ({result.status})", "relax the budget or the constraints"
                )
            from dlrig.buildfile import dump_build

            return Response(dump_build(result.best.build), media_type="application/yaml")
        return result.to_dict()


# --- pages ------------------------------------------------------------------------------------
Page = Callable[..., HTMLResponse]


def _add_pages(app: FastAPI, catalogs: _Catalogs, templates: Jinja2Templates) -> None:
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
            return page(request, name, error_status(exc), **context, error=error_dict(exc))
        return page(request, name, **{**context, **result})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        cat = catalogs.get()
        counts = {c.value: len(cat.parts(c)) for c in Category}
        return page(
            request, "home.html", catalog_name=cat.name, counts=counts,
            n_chips=len(cat.chips), n_rules=len(service.rules()),
        )  # fmt: skip

    @app.get("/catalog", response_class=HTMLResponse, include_in_schema=False)
    def catalog_page(request: Request) -> HTMLResponse:
        qp = request.query_params
        category = qp.get("category") or None
        q = qp.get("q") or None
        filters = [f for f in qp.getlist("filter") if f.strip()]

        def work(cat: Catalog) -> dict[str, Any]:
            return {"parts": service.catalog_parts(cat, category, q, filters)}

        return result_page(
            request, "catalog.html", work, categories=[c.value for c in Category],
            columns=PART_COLUMNS.get(category or "", []),
            category=category or "", q=q or "", filters=filters, parts=None,
        )  # fmt: skip

    @app.get("/parts/{part}", response_class=HTMLResponse, include_in_schema=False)
    def part_page(request: Request, part: str) -> HTMLResponse:
        try:
            data = service.part_detail(catalogs.get(), part)
        except PartNotFoundError as exc:
            return page(request, "error.html", 404, error=error_dict(exc))
        chip = data.pop("chip_spec", None)
        return page(request, "part.html", part=data, chip=chip)

    @app.get("/check", response_class=HTMLResponse, include_in_schema=False)
    def check_form(request: Request) -> HTMLResponse:
        return page(request, "check.html", text=example, gpus="", result=None)

    @app.post("/check", response_class=HTMLResponse, include_in_schema=False)
    async def check_submit(request: Request) -> HTMLResponse:
        form = await _form(request)
        text, gpus_text = form.get("build", ""), form.get("gpus", "")

        def work(cat: Catalog) -> dict[str, Any]:
            gpus = _int_field(gpus_text, "gpus", minimum=1)
            return {"result": service.check_text(text, cat, gpus)}

        return await run_in_threadpool(
            result_page, request, "check.html", work, text=text, gpus=gpus_text, result=None
        )

    @app.get("/size", response_class=HTMLResponse, include_in_schema=False)
    def size_page(request: Request) -> HTMLResponse:
        form = dict(request.query_params)
        context: dict[str, Any] = {
            "form": form, "models": service.model_presets(),
            "chips": [c.name for c in catalogs.get().chips], "tasks": TASKS,
            "precisions": PRECISIONS, "optimizers": OPTIMIZERS, "interconnects": INTERCONNECTS,
            "sorts": SORTS, "result": None, "ranking": None,
        }  # fmt: skip
        if not form.get("model"):
            return page(request, "size.html", **context)

        def work(cat: Catalog) -> dict[str, Any]:
            flags = _size_flags(form)
            gpus = _int_field(form.get("gpus", ""), "gpus", minimum=1) or 1
            util = _float_field(form.get("utilization", ""), "utilization")
            inter = form.get("interconnect") or "pcie"
            sort = form.get("sort") or "fit"
            w = workload_from_flags(**flags)
            result = service.size_workload(cat, w, form.get("gpu") or None, gpus, inter, util)
            ranking = service.rank_gpus(cat, w, gpus, inter, util, sort)
            return {"result": result, "ranking": ranking}

        return result_page(request, "size.html", work, **context)

    @app.get("/cost", response_class=HTMLResponse, include_in_schema=False)
    def cost_form(request: Request) -> HTMLResponse:
        return page(request, "cost.html", text=example, form={}, result=None, vs_choices=VERSUS)

    @app.post("/cost", response_class=HTMLResponse, include_in_schema=False)
    async def cost_submit(request: Request) -> HTMLResponse:
        form = await _form(request)
        text = form.get("build", "")

        def work(cat: Catalog) -> dict[str, Any]:
            report = service.cost_text(
                text,
                cat,
                hours_per_day=_float_field(form.get("hours_per_day", ""), "hours per day"),
                years=_float_field(form.get("years", ""), "years"),
                kwh_usd=_float_field(form.get("kwh_usd", ""), "electricity price"),
                versus=form.get("vs") or "all",
                run_hours=_float_field(form.get("run_hours", ""), "run hours"),
            )
            data = report.to_dict()
            chart, chart_note = None, None
            try:
                svg = service.cost_svg(report)
                chart = base64.b64encode(svg.encode("utf-8")).decode("ascii")
            except MissingExtraError as exc:
                chart_note = f"{exc.message} ({exc.hint})"
            return {"result": data, "rows": _cost_rows(data), "chart": chart,
                    "chart_note": chart_note}  # fmt: skip

        return await run_in_threadpool(
            result_page, request, "cost.html", work, text=text, form=form, result=None,
            vs_choices=VERSUS,
        )  # fmt: skip

    _add_plan_page(app, page, result_page)


def _add_plan_page(app: FastAPI, page: Page, result_page: Page) -> None:
    """GET /plan, when the planner exists in this install (a GET form: plans are bookmarkable)."""
    if not service.planner_available():
        return

    @app.get("/plan", response_class=HTMLResponse, include_in_schema=False)
    def plan_page(request: Request) -> HTMLResponse:
        form = dict(request.query_params)
        context: dict[str, Any] = {
            "form": form,
            "result": None,
            "build_text": None,
            "objectives": OBJECTIVES,
            "tasks": TASKS,
            "models": service.model_presets(),
        }
        if not form.get("budget_usd") and form.get("objective") != "cost":
            return page(request, "plan.html", **context)

        def work(cat: Catalog) -> dict[str, Any]:
            from dlrig.buildfile import dump_build

            result = service.plan(cat, **_plan_options(form))
            best = result.best
            return {"result": result.to_dict(),
                    "build_text": dump_build(best.build) if best is not None else None}  # fmt: skip

        return result_page(request, "plan.html", work, **context)


# --- form helpers -----------------------------------------------------------------------------
async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body as {name: last value} (no python-multipart needed)."""
    text = await _body_text(request)
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _int_field(
    text: str, name: str, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{name} must be a whole number, not '{text}'", "write e.g. 2") from None
    if minimum is not None and value < minimum:
        raise InputError(
            f"{name} must be at least {minimum}, not {value}", f"write {minimum} or more"
        )
    if maximum is not None and value > maximum:
        raise InputError(
            f"{name} must be at most {maximum}, not {value}", f"write {maximum} or less"
        )
    return value


def _float_field(text: str, name: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{name} must be a number, not '{text}'", "write e.g. 8 or 0.25") from None


def _size_flags(form: dict[str, str]) -> dict[str, Any]:
    """The size page's fields as the `dlrig size` flags (keywords of `workload_from_flags`)."""
    ckpt = form.get("checkpointing", "")
    return {
        "task": form.get("task") or None,
        "model": form.get("model") or None,
        "precision": form.get("precision") or None,
        "optimizer": form.get("optimizer") or None,
        "batch": _int_field(form.get("batch", ""), "batch"),
        "seq": _int_field(form.get("seq", ""), "sequence"),
        "checkpointing": {"yes": True, "no": False}.get(ckpt),
        "zero": _int_field(form.get("zero", ""), "ZeRO stage"),
        "lora_rank": _int_field(form.get("lora_rank", ""), "LoRA rank"),
        "tokens": form.get("tokens") or None,
        "samples": form.get("samples") or None,
        "epochs": _float_field(form.get("epochs", ""), "epochs"),
    }


def _plan_options(form: dict[str, str]) -> dict[str, Any]:
    """The plan page's fields as :func:`service.plan` keywords (the `dlrig plan` flags)."""

    def words(name: str) -> list[str]:
        return [w.strip() for w in form.get(name, "").split(",") if w.strip()]

    return {
        "budget_usd": _float_field(form.get("budget_usd", ""), "budget"),
        "workload": form.get("workload") or None,
        "task": form.get("task") or None,
        "objective": form.get("objective") or "throughput",
        "gpus": _int_field(form.get("gpus", ""), "GPUs"),
        "upgrade_to": _int_field(form.get("upgrade_to", ""), "upgrade to"),
        "min_vram_gib": _float_field(form.get("min_vram_gib", ""), "minimum VRAM"),
        "min_tflops": _float_field(form.get("min_tflops", ""), "minimum TFLOPS"),
        "max_hours": _float_field(form.get("max_hours", ""), "maximum hours"),
        "include": words("include"),
        "exclude": words("exclude"),
        "cooling": words("cooling") or None,
        "circuit": form.get("circuit") or None,
        "allow": words("allow"),
        "alternatives": _int_field(form.get("alternatives", ""), "alternatives", 0, 10) or 0,
        "frontier": form.get("frontier") == "on",
    }


def _cost_rows(d: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows `dlrig cost` shows: the build, every prebuilt, the cheapest cloud options."""
    opts = d["options"]
    prebuilt = [o for o in opts if o["kind"] == "prebuilt"]
    cloud = sorted((o for o in opts if o["kind"] != "prebuilt"), key=lambda o: o["total_usd"])
    return [d["own"], *prebuilt, *cloud[:COST_TOP]]


# --- template filters -------------------------------------------------------------------------
def _add_filters(templates: Jinja2Templates) -> None:
    env = templates.env
    env.filters["num"] = _num
    env.filters["usd"] = lambda v, digits=0: "—" if v is None else f"${v:,.{digits}f}"
    env.filters["count"] = human_count
    env.filters["duration"] = human_hours
    env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=2, ensure_ascii=False)
    env.globals["version"] = __version__
    env.globals["planner"] = service.planner_available()  # the nav shows Plan only with it
    env.trim_blocks = env.lstrip_blocks = True


def _num(value: Any, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.{digits}f} {unit}".rstrip()
