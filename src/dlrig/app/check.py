"""``dlrig check``: every compatibility finding for a build.

Front doors: ``dlrig check FILE``, ``POST /api/check`` (the body is the build file), the
``/check`` page, and :func:`dlrig.check`. The result is :class:`~dlrig.rules.CheckResult`; its
``to_dict()`` is the JSON shape documented in docs/check.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from dlrig.app.base import Cli, Command, Request, check_text_size

if TYPE_CHECKING:
    from dlrig.build import Build
    from dlrig.catalog import Catalog
    from dlrig.rules import CheckResult

__all__ = ["BUILD_SOURCE", "CheckRequest", "load_build_input", "run"]

# The name a build pasted into the browser goes by in error messages ("<build>:5: ...").
BUILD_SOURCE = "<build>"


class CheckRequest(Request):
    """What ``dlrig check`` takes."""

    # a Build, a build file's path, or (on the web) its text
    build: Annotated[Any, Cli(argument=True, metavar="FILE")] = Field(
        description="Build file (YAML or JSON); on the web, its text."
    )
    gpus: Annotated[int | None, Cli("--gpus")] = Field(
        None, ge=1, description="Check the build with N of its GPU instead."
    )


def load_build_input(value: Build | Path | str, catalog: Catalog, read_files: bool) -> Build:
    """The build a request names: a Build as given, a build file (where ``read_files``), else
    the text of a build file (size-limited; never a path on the server's disk)."""
    from dlrig.build import Build

    if isinstance(value, Build):
        return value
    if read_files:
        from dlrig.buildfile import load_build

        return load_build(value, catalog)
    from dlrig.buildfile import load_build_text

    text = str(value)
    check_text_size(text, "build")
    return load_build_text(text, catalog, BUILD_SOURCE, read_files=read_files)


def run(req: CheckRequest, catalog: Catalog, read_files: bool = True) -> CheckResult:
    """Check the requested build (with ``gpus`` of its GPU when given) on ``catalog``."""
    from dlrig.catalog.offers import priced_catalog
    from dlrig.rules import check

    # priced as `dlrig plan` prices (the shipped offers and the price book, new condition)
    build = load_build_input(req.build, priced_catalog(catalog), read_files)
    if req.gpus is not None:
        build = build.with_gpu_count(req.gpus)
    return check(build)


COMMAND = Command(
    "check",
    CheckRequest,
    run,
    "Every compatibility finding for a build, with its fix.",
    text_field="build",
)
