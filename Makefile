# Project commands; all of them are implemented in scripts/kpictl.py.
#   make demo      [DB=crm_kpi_demo] [PORT=8069] [RESET=1] [REPLICA=1]
#   make test      [PYTEST_ARGS="-k churn"]  (or: make test PYTEST_ARGS=tests/test_x.py)
#   make lint
#   make generate  [DB=crm_kpi_demo] [CUSTOMERS=3000] [MONTHS=24] [SEED=42]
#   make bench     [BENCH_ARGS=...]
#   make pot       regenerate i18n/crm_success_kpi.pot
#   make wheel     build dist/odoo_addon_crm_success_kpi-*.whl from HEAD
#   make replica   start a streaming standby of the private cluster [FRESH=1]
#   make pg-stop   stop the private PostgreSQL cluster (and its standby)
PYTHON ?= python3
KPICTL := $(PYTHON) scripts/kpictl.py
DB ?= crm_kpi_demo
PORT ?= 8069
CUSTOMERS ?= 3000
MONTHS ?= 24
SEED ?= 42

.PHONY: demo test lint format generate backfill bench pot replica pg-stop help screenshots wheel

help:
	@sed -n '2,10p' Makefile

demo:
	$(KPICTL) demo --db $(DB) --port $(PORT) $(if $(RESET),--reset) $(if $(REPLICA),--replica)

test:
	$(KPICTL) test -- $(PYTEST_ARGS)

lint:
	$(KPICTL) lint

format:
	$(PYTHON) -m ruff check --fix .
	$(PYTHON) -m ruff format .

generate:
	$(KPICTL) generate --db $(DB) --customers $(CUSTOMERS) --months $(MONTHS) --seed $(SEED)

backfill:
	$(KPICTL) backfill --db $(DB) --months $(MONTHS)

bench:
	$(KPICTL) bench -- $(BENCH_ARGS)

pot:
	$(KPICTL) pot

replica:
	$(KPICTL) replica start $(if $(FRESH),--fresh)

pg-stop:
	$(KPICTL) pg-stop

wheel:
	$(KPICTL) wheel

# Regenerate the README's screenshots (Overview graph and pivot, a customer's
# KPI tab, first page of the PDF report) from the browser test.
screenshots:
	CRM_KPI_SCREENSHOTS=$(CURDIR)/docs/screenshots $(KPICTL) test -- tests/test_tours.py -k screenshots
