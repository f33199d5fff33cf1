"""Saved builds and share links: ``/b/{token}`` is the permalink of one immutable saved version.

- ``POST /b`` (the editor's Save button, a plain form) and ``POST /api/builds`` (JSON) save the
  editor's build as a new version — of the build it was opened from when ``parent`` names one —
  and answer its token; the form answer redirects to the permalink.
- ``GET /b/{token}``: the build, its check, slot map, power budget, other versions, exports.
  ``GET /api/builds/{token}``: the same as JSON. ``GET /b/{token}/export/{format}``: a download.
- ``GET /b/{token}/cost?hours_per_day=...``: the cost comparison of a saved build, a GET URL.
- ``POST /share/check`` and ``POST /share/cost`` (buttons on the check and cost pages) save the
  pasted build and redirect to its check or cost link.

The store (:mod:`dlrig.web.store`) is opened on first use, at ``dlrig serve --db PATH`` or the
user data folder; an unsaved build is never written anywhere.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from dlrig.errors import DlrigError, InputError
from dlrig.web.editor import (
    EXPORT_PATTERN,
    EditResult,
    edit,
    error_dict,
    export_response,
    page_context,
    panel_context,
    read_fields,
)
from dlrig.web.store import BuildStore, SavedBuild, default_db_path

__all__ = ["StoreHolder", "router", "saved_text"]

COST_FIELDS = ("hours_per_day", "years", "kwh_usd", "vs", "run_hours")


class StoreHolder:
    """The saved-builds store, opened on first use (``path`` None: the user data folder)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = path
        self._store: BuildStore | None = BuildStore(path) if path is not None else None
        self._lock = threading.Lock()

    def get(self) -> BuildStore:
        """The saved-build store, opened on first use."""
        with self._lock:
            if self._store is None:
                self._store = BuildStore(self.path or default_db_path())
            return self._store


class NotSavedError(DlrigError):
    """No saved build behind a token (HTTP 404)."""


def not_found_handler(templates: Jinja2Templates) -> Callable[[Request, Exception], Response]:
    """The app's 404 for a token with no saved build: JSON under /api/, else the error page."""

    def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotSavedError)
        if request.url.path.startswith("/api/"):
            return JSONResponse(error_dict(exc), status_code=404)
        return templates.TemplateResponse(
            request, "error.html", {"error": error_dict(exc)}, status_code=404
        )

    return not_found


def _saved(app: FastAPI, token: str) -> SavedBuild:
    saved = app.state.build_store.get().get(token)
    if saved is None:
        raise NotSavedError(
            "no saved build behind this link",
            "check that the link was copied whole; saved builds are never deleted",
        )
    return saved


def saved_text(app: FastAPI, token: str) -> tuple[str, str]:
    """The editor's start from a saved version: its text, and its token as the parent."""
    saved = _saved(app, token)
    return saved.text, saved.token


def router(catalogs: Any, templates: Jinja2Templates) -> APIRouter:
    """The saved-build routes: save, permalinks, versions, exports and share links."""
    r = APIRouter()

    def store(request: Request) -> BuildStore:
        holder: StoreHolder = request.app.state.build_store
        return holder.get()

    def save(request: Request, fields: dict[str, str]) -> tuple[EditResult, SavedBuild | None]:
        res = edit({**fields, "op": "update"}, catalogs.get())
        if res.error is not None or res.build is None:
            return res, None
        parent = fields.get("parent") or None
        try:
            saved = store(request).save(res.build.name, res.text, parent)
        except DlrigError as exc:
            res.error = exc
            return res, None
        return res, saved

    @r.post("/b", include_in_schema=False)
    async def save_form(request: Request) -> Response:
        fields = await read_fields(request)
        res, saved = await run_in_threadpool(save, request, fields)
        if saved is None:
            ctx = page_context(res, catalogs.get())
            return templates.TemplateResponse(request, "build.html", ctx, status_code=422)
        return RedirectResponse(f"/b/{saved.token}", status_code=303)

    @r.post("/api/builds", tags=["saved builds"], status_code=201)
    async def save_api(request: Request) -> Response:
        """Save a build: `{"build": "<build file text>", "parent": "<token>"}` (parent: the
        saved version it was edited from). Answers its `token`, `url` and `version`."""
        fields = await read_fields(request)
        if "build" not in fields:  # a YAML body read as a form: it said "the file is empty"
            missing = InputError(
                "the request has no build field",
                'send JSON {"build": "<the build file\'s text>"} with content-type '
                "application/json",
            )
            return JSONResponse(error_dict(missing), status_code=422)
        res, saved = await run_in_threadpool(save, request, fields)
        if saved is None:
            err = res.error or InputError("nothing to save", "send a build")
            return JSONResponse(error_dict(err), status_code=422)
        return JSONResponse(_saved_dict(saved), status_code=201)

    @r.get("/api/builds/{token}", tags=["saved builds"])
    def get_api(request: Request, token: str) -> Response:
        """One saved version: its text, name, version, date, and its check."""
        saved = _saved(request.app, token)  # no such token: 404 (not_found_handler)
        res = edit({"build": saved.text, "op": "apply"}, catalogs.get())
        out = _saved_dict(saved) | {"text": saved.text}
        out["check"] = res.result.to_dict() if res.result is not None else None
        return JSONResponse(out)

    @r.get("/b/{token}", response_class=HTMLResponse, include_in_schema=False)
    def permalink(request: Request, token: str) -> Response:
        saved = _saved(request.app, token)  # no such token: 404 (not_found_handler)
        res = edit({"build": saved.text, "op": "apply"}, catalogs.get())
        ctx = panel_context(res)
        ctx.update(
            saved=saved,
            versions=store(request).versions(saved.lineage),
            readonly=True,
            text=saved.text,
            permalink=str(request.url),
        )
        return templates.TemplateResponse(request, "saved.html", ctx)

    @r.get("/b/{token}/export/{fmt}", include_in_schema=False)
    def export(request: Request, token: str, fmt: str) -> Response:
        saved = _saved(request.app, token)  # no such token: 404 (not_found_handler)
        if not re.match(EXPORT_PATTERN, fmt):
            unknown = InputError(
                f"unknown export format '{fmt}'",
                "choose yaml, json, text, markdown, check-json, slot-map or power",
            )
            return JSONResponse(error_dict(unknown), status_code=404)
        res = edit({"build": saved.text, "op": "apply"}, catalogs.get())
        if res.build is None or res.result is None:  # e.g. a part this catalog no longer has
            err: DlrigError = res.error or InputError(
                "the saved build cannot be read", "open it in the editor"
            )
            return JSONResponse(error_dict(err), status_code=422)
        return export_response(res.build, res.result, fmt)

    @r.get("/b/{token}/cost", response_class=HTMLResponse, include_in_schema=False)
    def saved_cost(request: Request, token: str) -> Response:
        saved = _saved(request.app, token)  # no such token: 404 (not_found_handler)
        form = {k: request.query_params.get(k, "") for k in COST_FIELDS}
        ctx = _cost_context(saved.text, form, catalogs.get())
        ctx.update(saved=saved, permalink=str(request.url))
        return templates.TemplateResponse(
            request, "cost.html", ctx, status_code=422 if ctx.get("error") else 200
        )

    @r.post("/share/check", include_in_schema=False)
    @r.post("/share/cost", include_in_schema=False)
    async def share(request: Request) -> Response:
        """Save the check or cost page's build and redirect to its share link."""
        fields = await read_fields(request)
        res, saved = await run_in_threadpool(save, request, {"build": fields.get("build", "")})
        if saved is None:
            err = res.error or InputError("nothing to share", "paste a build")
            return templates.TemplateResponse(
                request, "error.html", {"error": error_dict(err)}, status_code=422
            )
        url = f"/b/{saved.token}"
        if request.url.path.endswith("/cost"):
            query = {k: fields[k] for k in COST_FIELDS if fields.get(k)}
            url += "/cost" + (f"?{urlencode(query)}" if query else "")
        return RedirectResponse(url, status_code=303)

    return r


def _saved_dict(saved: SavedBuild) -> dict[str, Any]:
    return {
        "token": saved.token,
        "url": f"/b/{saved.token}",
        "name": saved.name,
        "version": saved.version,
        "created_at": saved.created_at,
    }


def _cost_context(text: str, form: dict[str, str], catalog: Any) -> dict[str, Any]:
    """The cost page's context for a saved build (what ``POST /cost`` renders for its text)."""
    from dlrig.cost import VERSUS
    from dlrig.web.pages import cost_result

    ctx: dict[str, Any] = {"text": text, "form": form, "result": None, "vs_choices": VERSUS}
    try:
        ctx.update(cost_result({k: v for k, v in form.items() if v}, text, catalog))
    except DlrigError as exc:
        ctx["error"] = error_dict(exc)
    return ctx
