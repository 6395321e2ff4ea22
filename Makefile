# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install lint

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

run: install
	$(BIN)/okr-rollout playbook validate playbooks/*.yaml
	$(BIN)/okr-rollout db upgrade
	$(BIN)/okr-rollout demo
	$(BIN)/okr-rollout serve

test: install
	$(BIN)/python -m pytest -q -n auto --dist worksteal

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy --strict src/
	$(BIN)/lint-imports
