# Every target creates .venv on first use, so a fresh clone needs only `make run` / `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test clean

$(BIN)/dlrig: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# the planner (OR-Tools) is the main job, so the default install includes it
	$(BIN)/pip install -q -e ".[plan]"
	touch $(BIN)/dlrig

$(VENV)/.dev: $(BIN)/dlrig
	# torch is the optional `bench` extra; the CPU build is enough for the test suite.
	# 2.13.0 is the CPU wheel this project's CI machines carry on disk; elsewhere pip fetches it.
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[dev,plan,cost,web,bench]"
	touch $(VENV)/.dev

run: $(BIN)/dlrig
	$(BIN)/dlrig plan --budget-usd 7000

test: $(VENV)/.dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

clean:
	rm -rf $(VENV) build *.egg-info
