# supportflow — every developer workflow is a target here; `make help` lists them.
# The toolchain installs itself: a private uv in .tools/, the locked environment in .venv/.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export UV_PYTHON_DOWNLOADS := never
export AWS_DEFAULT_REGION ?= us-east-1
RUN := $(UV) run --frozen --all-extras --python $(PYTHON)

.PHONY: help setup run up test unit integration lint typecheck cfn-lint schemas bench eval clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced  ## install the locked environment (.venv)

run: setup  ## boot the local stack, replay the sample tickets through the whole pipeline, report
	$(RUN) supportflow run

up: setup  ## boot the local stack and serve until Ctrl-C
	$(RUN) supportflow up

test: setup lint typecheck  ## lint, type-check, cfn-lint and the whole test suite
	$(RUN) pytest

unit: setup  ## tests that need no emulator
	$(RUN) pytest -m "not integration"

integration: setup  ## tests against the embedded emulator and the offline Bedrock
	$(RUN) pytest -m integration

lint: setup cfn-lint  ## ruff + cfn-lint
	$(RUN) ruff check .
	$(RUN) ruff format --check .

cfn-lint: setup
	$(RUN) cfn-lint template.yaml

typecheck: setup  ## mypy --strict
	$(RUN) mypy supportflow workers schemas tests

schemas: setup  ## regenerate schemas/json from the pydantic contracts
	$(RUN) python -m schemas.export

bench: setup  ## throughput, latency and overhead figures
	$(RUN) python -m benchmarks

eval: setup  ## offline model accuracy on held-out labelled data
	$(RUN) python -m supportflow.bedrock_offline.evaluate

clean:
	rm -rf .tools $(VENV) .mypy_cache .pytest_cache .ruff_cache .aws-sam
