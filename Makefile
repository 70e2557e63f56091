# unitcost — the two commands a newcomer needs are `make run` and `make test`.
# Everything installs from the package registries only (PyPI through uv); nothing else is fetched.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced

# The default simulated fleet that `make run` builds and loads (fixed dates: reproducible).
FLEET_DIR := var/fleet
FLEET_START := 2026-11-01
FLEET_DAYS := 7
FLEET_END := 2026-11-08
DUCKDB := var/unitcost.duckdb
DEV_PORT ?= 3000

# uv from PATH if present, else a private copy installed from PyPI into .uv/.
UV := $(shell command -v uv 2>/dev/null || echo .uv/bin/uv)

.PHONY: help setup run test test-spark dev lint clean bench bench-spark

help:
	@echo "make run    set up, simulate the default fleet ($(FLEET_DAYS) days), load it into $(DUCKDB)"
	@echo "make test   set up and run the tests"
	@echo "make test-spark  unitcost run on Spark equals the run on DuckDB (needs Java; adds the spark group)"
	@echo "make dev    Dagster UI on workspace.yaml (after make run)"
	@echo "make lint   ruff"
	@echo "make bench  per-step time, rows/s and peak RSS of one fleet-day at scales $(BENCH_SCALES), and a week"
	@echo "make bench-spark  the $(BENCH_SPARK_DAYS)-day x scale $(BENCH_SPARK_SCALE) backfill with the lake on, dbt on Spark (docs/scale-out.md)"
	@echo "make clean  remove .venv, var/ and dbt target/"

.uv/bin/uv:
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

setup: $(STAMP)

run: setup
	rm -rf $(FLEET_DIR)
	$(BIN)/unitcost simulate --out $(FLEET_DIR) --days $(FLEET_DAYS) --start $(FLEET_START) \
		--duckdb $(DUCKDB)
	$(BIN)/unitcost run --config $(FLEET_DIR)/unitcost.yaml --start $(FLEET_START) --end $(FLEET_END)

test: setup
	$(BIN)/pytest

# Not part of `make test`: `unitcost run` with engine: spark (PySpark in-process, a Java runtime)
# against the same run on DuckDB, two fleets, then a first day, its re-run and the next day over
# the same Spark tables, and replace_window alone on a one-model project; ~40 minutes on 2
# shared cores (docs/scale-out-spark.md). Adds the optional spark group.
test-spark: setup
	$(UV) sync --frozen --compile-bytecode --group spark --python $(PYTHON)
	$(BIN)/pytest -m spark tests/integration/test_spark_equality.py \
		tests/integration/test_spark_replace_window.py

# `dagster dev` warns that the `dg` CLI supersedes it; that warning is about the CLI, not the
# code location, so it is silenced here and nowhere else.
dev: setup
	mkdir -p var/dagster && cp dagster_home/dagster.yaml var/dagster/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/var/dagster UNITCOST_CONFIG=$(CURDIR)/$(FLEET_DIR)/unitcost.yaml \
		UNITCOST_DUCKDB=$(CURDIR)/$(DUCKDB) PATH=$(CURDIR)/$(BIN):$$PATH \
		PYTHONWARNINGS='ignore:Function `dev_command` is superseded:FutureWarning' \
		$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(DEV_PORT)

# Not one of README's two commands: simulated fleets are cached in var/bench (scale 32 takes
# ~7 minutes and ~8 GiB to simulate), each run starts from an empty warehouse. Each fleet-day
# comes with its whole month of billing (a month-end export); BENCH_DCGM_S=10 samples DCGM
# every 10 s instead of dcgm-exporter's 30 s (cached apart).
BENCH_DIR := var/bench
BENCH_SCALES ?= 1 4 8 32
BENCH_DCGM_S ?= 30
BENCH_DAY := 2026-11-01
BENCH_NEXT := 2026-11-02
BENCH_WEEK_END := 2026-11-08
BENCH_TAG := $(if $(filter 30,$(BENCH_DCGM_S)),,-dcgm$(BENCH_DCGM_S)s)

bench: setup
	@set -e; for s in $(BENCH_SCALES); do \
		dir=$(BENCH_DIR)/s$$s$(BENCH_TAG); \
		[ -f $$dir/unitcost.yaml ] || $(BIN)/unitcost simulate --scale $$s --days 1 \
			--start $(BENCH_DAY) --billing-month --dcgm-interval-s $(BENCH_DCGM_S) --out $$dir; \
		rm -f $$dir/unitcost.duckdb $$dir/unitcost.analytics.duckdb; \
		$(BIN)/unitcost bench-run --config $$dir/unitcost.yaml --start $(BENCH_DAY) --end $(BENCH_NEXT); \
	done
	@[ -f $(BENCH_DIR)/week/unitcost.yaml ] || $(BIN)/unitcost simulate --days 7 \
		--start $(BENCH_DAY) --out $(BENCH_DIR)/week
	@rm -f $(BENCH_DIR)/week/unitcost.duckdb $(BENCH_DIR)/week/unitcost.analytics.duckdb
	$(BIN)/unitcost bench-run --config $(BENCH_DIR)/week/unitcost.yaml --start $(BENCH_DAY) \
		--end $(BENCH_WEEK_END)

# Issue 17 point 4, the scale test on Spark (docs/scale-out.md): BENCH_SPARK_DAYS days of
# BENCH_SPARK_SCALE x 32 GPUs simulated once into var/bench-spark, run with the Parquet lake
# on and dbt on the spark target (UNITCOST_DBT_TARGET names another output of the profile);
# BENCH_SPARK_ENGINE=duckdb runs the same with dbt on DuckDB.
BENCH_SPARK_DAYS ?= 30
BENCH_SPARK_SCALE ?= 32
BENCH_SPARK_ENGINE ?= spark

bench-spark: setup
	$(UV) sync --frozen --compile-bytecode --group spark --python $(PYTHON)
	$(BIN)/unitcost bench-spark --days $(BENCH_SPARK_DAYS) --scale $(BENCH_SPARK_SCALE) \
		--start $(BENCH_DAY) --engine $(BENCH_SPARK_ENGINE) \
		--out var/bench-spark/d$(BENCH_SPARK_DAYS)-s$(BENCH_SPARK_SCALE)

lint: setup
	$(BIN)/ruff check pipelines tests
	$(BIN)/ruff format --check pipelines tests

clean:
	rm -rf $(VENV) .uv var target dbt_packages logs
