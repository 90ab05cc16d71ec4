# RetailIQ. `make run` and `make test` create the virtual environment on first use.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# Outside these machines, point pip at PyTorch's CPU wheels, e.g.
#   make run TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
MLFLOW_PORT ?= 5000
DAGSTER_PORT ?= 3000

.PHONY: run train serve test ui dagster-ui mlflow-ui lint install clean-data

$(STAMP): pyproject.toml constraints/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel setuptools
	$(BIN)/pip install --quiet -c constraints/constraints.txt torch==2.13.0 \
		$(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)
	$(BIN)/pip install --quiet -c constraints/constraints.txt -e ".[dev]"
	@touch $@

install: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

## run: set up, seed synthetic data if the landing zone is empty, run the main job, summarise
run: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/retailiq run

## train: the whole training graph (families -> ensemble -> registry gate -> forecasts)
train: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/retailiq run --job training_job

## serve: the forecast API (FastAPI + uvicorn) on the champion; RETAILIQ_SERVING_* settings
serve: $(STAMP)
	$(BIN)/retailiq-serve

## test: the whole test suite (needs PostgreSQL and Redis on localhost)
test: $(STAMP)
	$(BIN)/pytest

## ui: Dagster UI on :3000 and MLflow UI on :5000 (Ctrl-C stops both)
ui: $(STAMP) $(DAGSTER_HOME)/dagster.yaml
	@mkdir -p data/mlflow
	trap 'kill 0' EXIT; \
	$(BIN)/mlflow ui --backend-store-uri sqlite:///data/mlflow/mlflow.db \
		--default-artifact-root data/mlflow/artifacts --port $(MLFLOW_PORT) & \
	$(BIN)/dagster dev -w workspace.yaml -p $(DAGSTER_PORT)

lint: $(STAMP)
	$(BIN)/ruff check .

clean-data:
	rm -rf data .dagster_home
