"""Shared fixtures and markers.

- ``gpu``: needs CUDA through PyTorch; skipped cleanly on CPU-only machines.
- ``datasets``: reads ``../shared/datasets`` beside the checkout; skipped when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DATASETS_DIR = REPO_ROOT.parent / "shared" / "datasets"


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    has_gpu: bool | None = None
    for item in items:
        if "gpu" in item.keywords:
            if has_gpu is None:
                has_gpu = _cuda_available()
            if not has_gpu:
                item.add_marker(pytest.mark.skip(reason="needs an NVIDIA GPU with PyTorch"))
        if "datasets" in item.keywords and not DATASETS_DIR.is_dir():
            item.add_marker(pytest.mark.skip(reason=f"{DATASETS_DIR} is absent"))


@pytest.fixture(autouse=True, scope="session")
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read the developer's $DLRIG_CATALOG or price book, nor write the user's
    cache dir."""
    import os

    os.environ.pop("DLRIG_CATALOG", None)
    os.environ["DLRIG_CACHE_DIR"] = str(tmp_path_factory.mktemp("dlrig-cache"))
    os.environ["DLRIG_PRICES"] = str(tmp_path_factory.mktemp("dlrig-data") / "prices.sqlite")


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    return DATASETS_DIR


@pytest.fixture(scope="session")
def catalog():  # type: ignore[no-untyped-def]
    from dlrig.catalog.builtin import builtin_catalog

    return builtin_catalog()


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.exit_code, self.stdout, self.stderr = code, out, err

    def json(self):  # type: ignore[no-untyped-def]
        import json

        return json.loads(self.stdout)


@pytest.fixture()
def run_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `dlrig ARGS...` in-process through the real entry point (exit codes included)."""
    import sys

    from dlrig.cli.app import main

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["dlrig", *args])
        monkeypatch.setenv("COLUMNS", "200")
        capsys.readouterr()
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run
