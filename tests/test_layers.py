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


def test_every_module_has_a_layer() -> None:
    # a new top-level module must be placed in the contract, or nothing checks its imports
    import tomllib

    import dlrig

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    [contract] = config["tool"]["importlinter"]["contracts"]
    placed = {name.strip() for layer in contract["layers"] for name in layer.split(":")}
    package = Path(dlrig.__file__).parent
    modules = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    modules |= {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert modules <= placed, f"not in a layer of pyproject's contract: {modules - placed}"


def test_the_architecture_doc_draws_the_contract() -> None:
    # docs/architecture.md's diagram lists every layer of the contract, top to bottom
    import itertools
    import re
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    [contract] = config["tool"]["importlinter"]["contracts"]
    doc = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    diagram = doc.split("```", 2)[1]
    # the module names stand first on a line or after " : "
    where: dict[str, int] = {}
    for m in re.finditer(r"(?:^|: )([a-z_]+)\b", diagram, re.M):
        where.setdefault(m.group(1), m.start())
    layers = [[name.strip() for name in layer.split(":")] for layer in contract["layers"]]
    missing = [name for layer in layers for name in layer if name not in where]
    assert not missing, f"docs/architecture.md's layer diagram lacks {missing}"
    for upper, lower in itertools.pairwise(layers):
        assert max(where[n] for n in upper) < min(where[n] for n in lower), (upper, lower)
