"""`dlrig serve`: the web app (catalog, check, size, cost, plan) on a local port."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlrig.cli.options import CatalogOpt
from dlrig.cli.output import stderr


def serve_cmd(
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on (the default: this machine only)."),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)
    ] = 8000,
    catalog: CatalogOpt = None,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            help="SQLite file for saved builds (default: $DLRIG_DB, else the user data folder).",
        ),
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Another host name the app answers to (besides localhost and --host); repeat "
            "for several. Requests naming any other host are refused (DNS rebinding).",
        ),
    ] = None,
) -> None:
    """Serve the web app: the same checks, sizing, costs and plans in a browser, plus a JSON API.

    Needs the web extra (fastapi, uvicorn, jinja2). Stop it with Ctrl+C.

    Examples:
      dlrig serve
      dlrig serve --port 8080 --catalog ~/.local/share/dlrig/catalog.sqlite
      dlrig serve --db ~/dlrig/builds.sqlite
    """
    from dlrig.errors import MissingExtraError

    try:
        import fastapi  # noqa: F401
        import jinja2  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise MissingExtraError(exc.name or "fastapi", "web") from None
    from dlrig.web.app import create_app
    from dlrig.web.security import DEFAULT_ALLOWED_HOSTS

    _check_can_listen(host, port)  # uvicorn logged "[Errno -2] ..." and exited 1 or 3
    hosts = [*DEFAULT_ALLOWED_HOSTS, *(allow_host or [])]
    if host not in ("0.0.0.0", "::", ""):
        hosts.append(host)
    # opens the catalog (and --db) now: a bad path fails before the server listens
    app = create_app(catalog, allowed_hosts=hosts, db_path=db)
    if host not in ("127.0.0.1", "localhost", "::1"):
        stderr.print(
            f"[yellow]warning:[/yellow] listening on {host}: anyone who can reach this address "
            "can use the app (it has no login)",
            highlight=False,
        )
    stderr.print(f"dlrig web app on http://{host}:{port}/ (Ctrl+C stops it)", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _check_can_listen(host: str, port: int) -> None:
    """InputError unless this machine can listen on ``host``:``port`` (an address of its own,
    a port no other program holds)."""
    import socket

    from dlrig.errors import InputError

    hint = (
        "give --host an address of this machine (127.0.0.1, or 0.0.0.0 for all) and a free --port"
    )
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind(address)
    except OSError as exc:  # socket.gaierror too: a name that does not resolve
        reason = exc.strerror or str(exc)
        raise InputError(f"cannot listen on {host}:{port} ({reason})", hint) from None


def register(app: typer.Typer) -> None:
    """Add ``dlrig serve`` to the CLI."""
    app.command("serve")(serve_cmd)
