# The two commands of the quick start are `make run` and `make test`.
# Everything else here is what they are made of.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PACKAGES := city_common gateway traffic_signal video_ingest fire_detect air_water health_record enterprise_hub grid_events
PYTEST := $(UV) run --frozen pytest -p no:logging

.PHONY: help install run stack-up stack-down stack-status migrate lint format docs \
        test test-unit test-integration test-e2e compose-check k8s-check bench bench-run clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-18s %s\n", $$1, $$2}'

install: ## Install what is missing: Debian packages, uv, the Python workspace
	@bash deploy/local/install.sh

run: install ## Run the whole platform (stack, migrations, 8 services, demo city); Ctrl-C stops it
	@$(UV) run --frozen python deploy/local/run.py $(RUN_ARGS)

stack-up: ## Start PostgreSQL+PostGIS and Kafka (idempotent)
	@bash deploy/local/stack.sh up

stack-down: ## Stop PostgreSQL and Kafka
	@bash deploy/local/stack.sh down

stack-status:
	@bash deploy/local/stack.sh status

migrate: stack-up ## Upgrade every service's database to head
	@$(UV) run --frozen python deploy/local/run.py --migrate-only

lint: ## ruff (lint + format check) and mypy
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy $(addprefix -p ,$(PACKAGES))

format: ## Apply ruff's fixes and formatting
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

docs: ## Regenerate docs/asyncapi.yaml and the event catalogue
	$(UV) run --frozen python -m city_common.events.docs

test-unit: ## Unit tests (no stack needed)
	$(PYTEST) libs/common/tests/unit services/*/tests/unit -q

test-integration: stack-up ## Integration tests against the real Kafka and PostgreSQL
	$(PYTEST) libs/common/tests/integration services/*/tests/integration -q

test-e2e: stack-up ## End-to-end tests: the platform as `make run` starts it
	$(PYTEST) tests/e2e -q

compose-check: ## Validate docker-compose.yml (no Docker engine needed)
	@bash deploy/docker/validate.sh

k8s-check: ## Validate deploy/k8s (YAML, kustomize render when kubectl is present, consistency)
	@$(UV) run --frozen python deploy/k8s/validate_manifests.py

# One pytest run over everything, so the closing line counts every test.
test: install ## Everything CI runs: lint, compose check, unit, integration and e2e tests
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory compose-check
	@$(MAKE) --no-print-directory k8s-check
	@bash deploy/local/stack.sh up
	@set -o pipefail; rc=0; \
	  $(PYTEST) libs/common/tests services/*/tests tests/e2e -q || rc=$$?; \
	  if [ -z "$$KEEP_STACK" ]; then bash deploy/local/stack.sh down >/dev/null || true; fi; \
	  exit $$rc

bench: stack-up ## Outbox/inbox throughput against a bare-producer baseline
	$(UV) run --frozen python bench/outbox_throughput.py

bench-run: stack-down ## `make run` cold and warm, idle memory of the whole stack
	$(UV) run --frozen python bench/make_run.py

clean: ## Stop the stack and delete its data (.local/)
	@bash deploy/local/stack.sh reset
