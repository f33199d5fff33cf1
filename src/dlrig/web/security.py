"""The web app's front gate: what every request passes before any route sees it.

One ASGI middleware (:class:`SecurityGate`), added by ``create_app``:

- **Host check** against DNS rebinding: a page on ``evil.example`` that re-points its name at
  127.0.0.1 reaches a localhost server with ``Host: evil.example``; only the names in
  ``allowed_hosts`` (localhost names by default, ``dlrig serve --allow-host`` adds more) are
  served. "testserver" is Starlette's test client; no browser page can carry it without control
  of the user's own DNS.
- **Cross-origin writes refused**: a browser sends ``Origin`` (or ``Sec-Fetch-Site``) with every
  cross-site POST, including the "simple" ``text/plain`` ones that skip CORS preflight. A write
  whose origin is not this server's is refused with 403; clients without those headers (curl,
  scripts) and the app's own forms are unaffected.
- **Bodies**: at most :data:`MAX_BODY_BYTES` (413 beyond, read no further); a JSON body is
  parsed strictly (:func:`dlrig.textfile.parse_json`: no NaN/Infinity, bounded numbers and
  depth) before FastAPI parses it again, so no route sees hostile JSON.
- **Security headers** on every response (CSP without inline code, no framing, no sniffing,
  no referrer).
- **No exception text leaves the server**: anything a route raised past its handlers becomes a
  generic 500 body.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import JSONResponse

from dlrig.jsonout import dumps

__all__ = [
    "DEFAULT_ALLOWED_HOSTS",
    "MAX_BODY_BYTES",
    "SECURITY_HEADERS",
    "SecurityGate",
    "StrictJSONResponse",
    "run_guarded",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_ALLOWED_HOSTS = ("localhost", "127.0.0.1", "::1", "testserver")
# A pasted build file is limited to 256 KB (app.base.MAX_TEXT_BYTES); its form encoding can
# triple that.
MAX_BODY_BYTES = 1024 * 1024
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        b"form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class SecurityGate:
    """ASGI middleware: host check, same-origin writes, bounded strict bodies, headers."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Iterable[str] = DEFAULT_ALLOWED_HOSTS,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.allowed_hosts = {h.lower().strip("[]") for h in allowed_hosts}
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        send = _with_headers(send)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _error(send, *refusal)
            return
        if scope["method"] in WRITE_METHODS:
            body = await self._read_body(headers, receive)
            if isinstance(body, tuple):
                await _error(send, *body)
                return
            problem = _json_problem(headers, body)
            if problem is not None:
                await _error(send, 422, "InputError", *problem)
                return
            receive = _replay(body, receive)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started:
                raise
            await _error(
                send,
                500,
                "InternalError",
                "internal error",
                "please report it, with the input that caused it",
            )

    # --- checks ---------------------------------------------------------------------------
    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str, str, str] | None:
        host = _hostname(headers.get("host", ""))
        if host not in self.allowed_hosts:
            return (
                400,
                "HostNotAllowed",
                f"this server does not answer to the host name '{host[:60]}'",
                "open it as http://localhost:PORT/, or start it with "
                "`dlrig serve --allow-host NAME`",
            )
        if scope["method"] in WRITE_METHODS and not _same_origin(headers):
            return (
                403,
                "CrossOriginRefused",
                "a write from another web site is refused",
                "use the app's own pages, or call the API without a browser",
            )
        return None

    async def _read_body(
        self, headers: dict[str, str], receive: Receive
    ) -> bytes | tuple[int, str, str, str]:
        too_large = (
            413,
            "InputError",
            f"the request body is larger than {self.max_body_bytes:,} bytes",
            "send a build file or a workload, not a large file",
        )
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            return too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _hostname(host: str) -> str:
    """The name in a Host header, without the port ("[::1]:8000" → "::1")."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _same_origin(headers: dict[str, str]) -> bool:
    """Whether a write comes from this server's own pages (or from a non-browser client)."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        # A browser sets Sec-Fetch-Site itself (no page can forge it), and it is the answer: our
        # own pages' form posts carry "Origin: null" under Referrer-Policy: no-referrer, so the
        # Origin check below would refuse them (found by the browser tests).
        return site in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return origin != "null" and parts.netloc.lower() == headers.get("host", "").strip().lower()


def _json_problem(headers: dict[str, str], body: bytes) -> tuple[str, str] | None:
    """(message, hint) when a JSON body is not strict JSON; None when fine or not JSON."""
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = ctype == "application/json" or ctype.endswith("+json")
    if not is_json and (ctype or body.lstrip()[:1] not in (b"{", b"[")):
        return None
    from dlrig.textfile import TextError, parse_json

    try:
        parse_json(body.decode("utf-8"))
    except UnicodeDecodeError:
        return "the request body is not UTF-8 text", "send JSON as UTF-8"
    except TextError as exc:
        if exc.message.startswith("invalid JSON"):
            return None  # bad syntax: the route answers it in its own terms (400)
        return f"the request body: {exc.message}", exc.hint
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then the client's later messages
    (so a route can still notice the client going away)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_headers(send: Send) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {k.lower() for k, _ in message.get("headers", [])}
            extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return send_with_headers


async def _error(send: Send, status: int, kind: str, message: str, hint: str) -> None:
    body = json.dumps({"error": kind, "message": message, "hint": hint}).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- per-request work budget ------------------------------------------------------------------
# Wall-clock seconds one plan request may use (every solve of it together: alternatives and
# frontier included). One solve is at most 60 s by the request's own time_limit.
PLAN_BUDGET_S = 60.0
_POLL_S = 0.25


async def run_guarded(
    request: Any, work: Callable[[], Any], seconds: float = PLAN_BUDGET_S, what: str = "the plan"
) -> Any:
    """``work()`` in a worker thread under a :class:`dlrig.budget.Budget` of ``seconds``,
    cancelled (its running solve stopped) as soon as the client disconnects."""
    import asyncio

    from starlette.concurrency import run_in_threadpool

    from dlrig.budget import Budget, work_budget

    budget = Budget(seconds, what)

    def run() -> Any:
        with work_budget(budget):
            return work()

    task = asyncio.ensure_future(run_in_threadpool(run))
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=_POLL_S)
            if done:
                return task.result()
            if not budget.cancelled.is_set() and await request.is_disconnected():
                budget.cancel()
    except asyncio.CancelledError:
        budget.cancel()
        raise


class StrictJSONResponse(JSONResponse):
    """JSON bodies through :func:`dlrig.jsonout.dumps`: never NaN or Infinity."""

    def render(self, content: Any) -> bytes:
        """Strict JSON bytes (a non-finite number becomes null)."""
        return dumps(content, indent=None).encode("utf-8")
