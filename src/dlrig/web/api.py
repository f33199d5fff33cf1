"""The JSON API under ``/api``: each route turns its query or body into the command's request
model, calls the command's ``run`` in :mod:`dlrig.app`, and answers the JSON ``dlrig COMMAND
--json`` prints, byte for byte (:func:`dlrig.app.base.to_json`).

Inputs are never paths on the server's disk: builds and workloads arrive as text or fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dlrig.app import catalog as app_catalog
from dlrig.app import check, cost, gpus, plan, size
from dlrig.app.base import to_json
from dlrig.errors import DlrigError, InputError, PartNotFoundError
from dlrig.web.security import run_guarded

if TYPE_CHECKING:
    from dlrig.app.base import Command
    from dlrig.web.app import Catalogs

__all__ = ["add_api", "capped", "json_response"]


def json_response(result: Any, status_code: int = 200) -> Response:
    """A result as the API's JSON (the CLI's ``--json`` text)."""
    return Response(to_json(result), status_code=status_code, media_type="application/json")


def add_api(app: FastAPI, catalogs: Catalogs) -> None:
    """Register every API route."""
    from dlrig.web.app import body_json, body_text

    @app.get("/api/catalog", tags=["catalog"])
    def api_catalog(request: Request) -> Response:
        """`dlrig catalog list -c CATEGORY -f FILTER --json`, or `catalog search Q` with q."""
        qp = request.query_params
        req = app_catalog.PartsRequest.parse(
            category=qp.get("category") or None, q=qp.get("q") or None,
            filter=qp.getlist("filter"), limit=qp.get("limit") or None,
            price_only=qp.get("price_only") or None,
        )  # fmt: skip
        return json_response(app_catalog.run(req, catalogs.get()))

    @app.get("/api/parts/{part}", tags=["catalog"])
    def api_part(part: str) -> Response:
        """`dlrig catalog show PART --json`: an id or a (fuzzy) name; 404 when nothing matches."""
        from dlrig.web.app import error_dict

        try:
            detail = app_catalog.show(app_catalog.ShowRequest.parse(part=part), catalogs.get())
        except PartNotFoundError as exc:
            return json_response(error_dict(exc), 404)
        return json_response(detail)

    @app.get("/api/chips", tags=["catalog"])
    def api_chips() -> Response:
        """`dlrig catalog chips --json`."""
        return json_response(app_catalog.chips(catalogs.get()))

    @app.get("/api/rules", tags=["check"])
    def api_rules() -> Response:
        """`dlrig rules --json`."""
        return json_response(app_catalog.rules())

    @app.get("/api/models", tags=["size"])
    def api_models() -> Response:
        """`dlrig size --list-models --json`."""
        return json_response(app_catalog.presets())

    @app.post("/api/check", tags=["check"])
    async def api_check(request: Request) -> Response:
        """`dlrig check FILE [--gpus N] --json`; the body is the build file (YAML or JSON)."""
        req = check.CheckRequest.parse(request.query_params, build=await body_text(request))
        return await run_in_threadpool(
            lambda: json_response(check.run(req, catalogs.get(), read_files=False))
        )

    @app.post("/api/size", tags=["size"])
    async def api_size(request: Request) -> Response:
        """`dlrig size WORKLOAD --gpu G --gpus N --json`; the body holds the request's fields."""
        req = size.SizeRequest.parse(await body_json(request))
        return await run_in_threadpool(
            lambda: json_response(size.run(req, catalogs.get(), read_files=False))
        )

    @app.get("/api/gpus", tags=["size"])
    def api_gpus(request: Request) -> Response:
        """`dlrig gpus --model M --task T ... --json`: every chip ranked for the workload."""
        req = gpus.GpusRequest.parse(request.query_params)
        return json_response(gpus.run(req, catalogs.get(), read_files=False))

    @app.post("/api/cost", tags=["cost"])
    async def api_cost(request: Request, plot: str | None = Query(None, pattern="^svg$")) -> Any:
        """`dlrig cost FILE --json` (the body is the build file); with plot=svg, the chart."""
        query = {k: v for k, v in request.query_params.items() if k != "plot"}
        if "vs" in query:
            query["versus"] = query.pop("vs")
        req = cost.CostRequest.parse(query, build=await body_text(request))

        def work() -> Response:
            try:
                report = cost.run(req, catalogs.get(), read_files=False)
            except DlrigError as exc:  # the API's parameter is vs, as the CLI's --vs
                raise exc.naming("vs") if exc.field == "versus" else exc from None
            if plot == "svg":
                return Response(cost.cost_svg(report), media_type="image/svg+xml")
            return json_response(report)

        return await run_in_threadpool(work)

    if plan.planner_available():
        _add_plan_api(app, catalogs)
    _add_generic_api(app, catalogs)


def query_fields(request: Request) -> dict[str, Any]:
    """The query parameters as request fields (a repeated parameter as a list)."""
    qp = request.query_params
    return {k: (v if len(v := qp.getlist(k)) > 1 else v[0]) for k in qp}


def _add_generic_api(app: FastAPI, catalogs: Catalogs) -> None:
    """``/api/NAME`` for every command of dlrig.app without a route of its own: GET with the
    request's fields as query parameters, or POST with the text of its ``text_field`` as the
    body (and the other fields as query parameters)."""
    from dlrig.app import commands

    taken = {getattr(r, "path", None) for r in app.routes}
    for command in commands().values():
        path = f"/api/{command.name}"
        if command.web and path not in taken:
            method = "GET" if command.text_field is None else "POST"
            app.add_api_route(path, _generic_route(command, catalogs), methods=[method],
                              tags=[command.name], summary=command.summary)  # fmt: skip


def _generic_route(command: Command, catalogs: Catalogs) -> Callable[..., Any]:
    from dlrig.web.app import body_text

    def answer(fields: dict[str, Any]) -> Response:
        req = command.request.parse(fields)
        return json_response(command.run(req, catalogs.get(), read_files=False))

    if command.text_field is None:

        def get(request: Request) -> Response:
            return answer(query_fields(request))

        return get

    text_field = command.text_field

    async def post(request: Request) -> Response:
        text = await body_text(request)
        return await run_in_threadpool(answer, {**query_fields(request), text_field: text})

    return post


# What one web request may ask of the planner: the server's time is shared.
MAX_WEB_TIME_LIMIT_S = 60.0
MAX_WEB_ALTERNATIVES = 10


def _add_plan_api(app: FastAPI, catalogs: Catalogs) -> None:
    from dlrig.web.app import body_json

    @app.post("/api/plan", tags=["plan"])
    async def api_plan(
        request: Request, output: str | None = Query(None, pattern="^yaml$")
    ) -> Response:
        """`dlrig plan --json`; with output=yaml, the best build's file (`-o build.yaml`)."""
        req = capped(plan.PlanRequest.parse(await body_json(request)))

        def work() -> Response:
            result = plan.run(req, catalogs.get(), read_files=False)  # under run_guarded's budget
            if output == "yaml":
                if result.best is None:
                    raise InputError(
                        f"no build found ({result.status})", "relax the budget or the constraints"
                    )
                from dlrig.buildfile import dump_build

                return Response(dump_build(result.best.build), media_type="application/yaml")
            return json_response(result)

        return await run_guarded(request, work)  # a time budget; stopped if the client leaves


def capped(req: plan.PlanRequest) -> plan.PlanRequest:
    """A plan request within the server's caps on solver time and alternatives."""
    for name, value, most in (
        ("time_limit", req.time_limit, MAX_WEB_TIME_LIMIT_S),
        ("alternatives", req.alternatives, MAX_WEB_ALTERNATIVES),
    ):
        if not value <= most:
            raise InputError(
                f"{name}: {value:g} is above {most:g}", f"give {most:g} or less", field=name
            )
    return req
