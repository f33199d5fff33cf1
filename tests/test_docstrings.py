"""Every public function, class and method in src/dlrig says what it is for.

Public means a name without a leading underscore, at module level or in a public class
(closures inside functions are implementation details and are not counted).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "dlrig"

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _undocumented(node: ast.AST, where: str, prefix: str = "") -> list[str]:
    out: list[str] = []
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, Definition) or child.name.startswith("_"):
            continue
        if ast.get_docstring(child) is None:
            out.append(f"{where}:{child.lineno} {prefix}{child.name}")
        if isinstance(child, ast.ClassDef):
            out += _undocumented(child, where, f"{prefix}{child.name}.")
    return out


def undocumented(root: Path) -> list[str]:
    """``path:line name`` of each public definition under ``root`` without a docstring."""
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        out += _undocumented(tree, str(path.relative_to(root.parent)))
    return out


def test_every_public_definition_has_a_docstring() -> None:
    missing = undocumented(SRC)
    assert not missing, "add a docstring to:\n" + "\n".join(missing)


def test_the_check_sees_methods_and_skips_private_names(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "m.py").write_text(
        '"""Module."""\n'
        "def documented():\n    '''Yes.'''\n"
        "def bare():\n    pass\n"
        "def _private():\n    pass\n"
        "class Thing:\n    '''A thing.'''\n"
        "    def method(self):\n        pass\n"
        "    def _hidden(self):\n        pass\n"
        "    @property\n    def size(self):\n        return 1\n"
        "class _Private:\n    def method(self):\n        pass\n",
        encoding="utf-8",
    )
    assert undocumented(pkg) == [
        "pkg/m.py:4 bare",
        "pkg/m.py:10 Thing.method",
        "pkg/m.py:15 Thing.size",
    ]
