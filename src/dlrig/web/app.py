"""The web app: a JSON API under ``/api`` and a few HTML pages, over the same application layer
as the CLI.

``create_app(catalog_path)`` builds a FastAPI app: :mod:`dlrig.web.api` registers the API
routes, :mod:`dlrig.web.pages` the pages; both turn their input into the command's request model
(:mod:`dlrig.app`) and call its ``run``. Bad input answers HTTP 422 (400 for a body that is not
text or JSON) with the message and hint the CLI prints, never a traceback::

    {"error": "BuildFileError", "message": "<build>:4: parts.cpu: unknown part ...",
     "hint": "did you mean ...?", "line": 4}

The catalog is opened once when the app is created (a bad ``--catalog`` fails at start-up) and
again per worker thread, because an imported SQLite store's connection belongs to its thread.
"""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
import threading
from collections.abc import Iterable
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from dlrig import __version__
from dlrig.app.base import request_error
from dlrig.app.plan import planner_available
from dlrig.catalog import Catalog, open_catalog
from dlrig.errors import (
    BuildFileError,
    DlrigError,
    InputError,
    MissingExtraError,
    PartNotFoundError,
)
from dlrig.units import human_count, human_hours
from dlrig.web.security import DEFAULT_ALLOWED_HOSTS, SecurityGate
from dlrig.web.security import StrictJSONResponse as JSONResponse

__all__ = ["create_app"]


@cache
def package_dir() -> Path:
    """The folder holding the app's ``templates/`` and ``static/``: the package's own where it
    is a folder (a source tree or a wheel install), else a copy made once per process in a
    temporary folder (a zip install: Jinja2 and StaticFiles read real files)."""
    root = resources.files("dlrig.web")
    own = Path(str(root))
    if (own / "templates").is_dir() and (own / "static").is_dir():
        return own
    copy = Path(tempfile.mkdtemp(prefix="dlrig-web-"))
    atexit.register(shutil.rmtree, copy, ignore_errors=True)
    for sub in ("templates", "static"):
        _copy_tree(root / sub, copy / sub)
    return copy


def _copy_tree(src: Traversable, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        if entry.is_dir():
            _copy_tree(entry, dest / entry.name)
        else:
            (dest / entry.name).write_bytes(entry.read_bytes())


PACKAGE_DIR = package_dir()


class Catalogs:
    """One open catalog per thread (an SQLite store's connection may not cross threads)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = path
        self._local = threading.local()
        self.first = open_catalog(path)
        self._local.catalog = self.first

    def get(self) -> Catalog:
        """This thread's catalog (opened on its first request)."""
        cat: Catalog | None = getattr(self._local, "catalog", None)
        if cat is None:
            cat = open_catalog(self.path)
            self._local.catalog = cat
        return cat


def create_app(
    catalog_path: str | Path | None = None,
    allowed_hosts: Iterable[str] | None = None,
    db_path: str | Path | None = None,
) -> FastAPI:
    """The dlrig web app over the catalog at ``catalog_path`` ($DLRIG_CATALOG, else built-in);
    ``allowed_hosts`` are the Host names it answers to (localhost names by default); saved
    builds go to the SQLite file ``db_path`` ($DLRIG_DB, else the user data folder, opened on
    the first save)."""
    catalogs = Catalogs(catalog_path)
    app = FastAPI(
        title="dlrig",
        version=__version__,
        description="Check, size, cost and plan a self-built deep-learning machine.",
        docs_url=None,  # the Swagger UI loads from a CDN; /openapi.json stays
        redoc_url=None,
        default_response_class=JSONResponse,
    )
    app.add_middleware(SecurityGate, allowed_hosts=allowed_hosts or DEFAULT_ALLOWED_HOSTS)
    app.state.catalogs = catalogs
    templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))
    _add_filters(templates)
    app.mount("/static", StaticFiles(directory=str(PACKAGE_DIR / "static")), name="static")
    _add_error_handlers(app, templates)
    from dlrig.web.api import add_api
    from dlrig.web.pages import add_pages

    add_api(app, catalogs)
    add_pages(app, catalogs, templates)
    from dlrig.web import editor, saved  # the build editor, saved builds and share links

    app.state.build_store = saved.StoreHolder(db_path)
    app.include_router(editor.router(catalogs, templates))
    app.include_router(saved.router(catalogs, templates))
    app.add_exception_handler(saved.NotSavedError, saved.not_found_handler(templates))
    app.add_exception_handler(editor.BodyTooLargeError, editor.too_large_handler)
    return app


# --- errors -----------------------------------------------------------------------------------
def error_dict(exc: DlrigError) -> dict[str, Any]:
    """The JSON body of an error: its kind, the CLI's message and hint, and where known the line."""
    out: dict[str, Any] = {"error": type(exc).__name__, "message": exc.message, "hint": exc.hint}
    if exc.field is not None:
        out["field"] = exc.field  # the request field the bad value came in (JSON's own name)
    if isinstance(exc, BuildFileError) and exc.line is not None:
        out["line"] = exc.line
    if isinstance(exc, PartNotFoundError) and exc.candidates:
        out["candidates"] = exc.candidates
    return out


class BadRequestError(InputError):
    """A body that cannot be read at all (HTTP 400)."""


def error_status(exc: DlrigError) -> int:
    """The HTTP status of an error: 400 unreadable body, 422 bad input, 501 missing extra."""
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
        # Only the routes' own query checks (e.g. output=yaml) reach here: request models are
        # parsed by the app layer, with the same messages as the CLI.
        assert isinstance(exc, RequestValidationError)
        error = request_error(exc.errors())
        return JSONResponse(error_dict(error), status_code=422)

    async def on_internal_error(request: Request, exc: Exception) -> Response:
        body = {  # never the exception's text: it can quote server paths and internals
            "error": "InternalError",
            "message": "internal error",
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


async def body_text(request: Request) -> str:
    """The request body as text (BadRequestError, HTTP 400, when it is not UTF-8)."""
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequestError(
            "the request body is not UTF-8 text", "send the file as UTF-8"
        ) from None


async def body_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object (BadRequestError, HTTP 400, when it is not one)."""
    from dlrig.textfile import TextError, parse_json

    text = await body_text(request)
    try:
        data = parse_json(text)  # strict: no NaN/Infinity, bounded numbers and depth
    except TextError as exc:
        if not exc.message.startswith("invalid JSON"):
            raise InputError(f"the request body: {exc.message}", exc.hint) from None
        detail = exc.message.removeprefix("invalid JSON: ")
        raise BadRequestError(
            f"the request body is not valid JSON: {detail}", "send a JSON object (see docs/web.md)"
        ) from None
    if not isinstance(data, dict):
        raise BadRequestError(
            "the request body is not a JSON object", "send a JSON object (see docs/web.md)"
        )
    return data


# --- template filters -------------------------------------------------------------------------
def _add_filters(templates: Jinja2Templates) -> None:
    from dlrig.catalog.offers import summary_line

    env = templates.env
    env.filters["num"] = _num
    env.filters["usd"] = lambda v, digits=0: "—" if v is None else f"${v:,.{digits}f}"
    env.filters["count"] = human_count
    env.filters["duration"] = human_hours
    env.filters["price_line"] = summary_line  # "prices dated … ; N older than 6 months"
    env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=2, ensure_ascii=False)
    env.globals["version"] = __version__
    env.globals["planner"] = planner_available()  # the nav shows Plan only with it
    env.trim_blocks = env.lstrip_blocks = True


def _num(value: Any, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return f"{value:,.{digits}f} {unit}".rstrip()
