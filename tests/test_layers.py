"""The layering contract (pyproject's [tool.importlinter], docs/architecture.md) holds: no module
imports from a layer above its own. `make test` runs `lint-imports` too."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_no_module_imports_a_higher_layer(capsys: pytest.CaptureFixture[str]) -> None:
    cli = pytest.importorskip("importlinter.cli")
    code = cli.lint_imports(config_filename=str(REPO / "pyproject.toml"))
    out = capsys.readouterr().out
    assert code == 0, out
    assert "BROKEN" not in out and "1 kept, 0 broken" in out
