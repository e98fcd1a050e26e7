# The commands the README gives. `make up` starts everything; `make test` runs every check.
.PHONY: setup up demo test lint typecheck pytest reliability schemas docs token bench clean

# uv as deploy/setup.sh finds or installs it: on PATH, in ~/.local/bin, or in .cache/tools.
export PATH := $(HOME)/.local/bin:$(CURDIR)/.cache/tools/bin:$(PATH)
UV = uv run --frozen

setup:
	@bash deploy/setup.sh

## Start the whole system: PostgreSQL, Kafka, SMTP and the four services (Ctrl-C stops all).
up: setup
	@$(UV) python -m deploy.up

## Against the running stack (make up, in another terminal): play a short story, say where to look.
demo:
	$(UV) python -m scripts.demo

## Every check CI runs: lint, format, types, the test suite against real servers, then the
## whole system under faults.
test: setup lint typecheck pytest reliability

lint:
	$(UV) ruff check .
	$(UV) ruff format --check .

typecheck:
	$(UV) mypy contracts services

## The handler tier first (each reaction against the real database: a broken rule fails in a
## minute), then the rest in a random order (the modules shuffled, and the tests within each),
## so no test leans on another having run first; `make pytest SEED=<printed seed>` repeats it.
## Each run draws a new order, except CI's: it runs one shuffled order known to pass, so that a
## change is judged by its own effect; a new order found to fail is a test to fix.
CI_SEED = 1796184259
ifndef SEED
ifeq ($(CI),true)
SEED := $(CI_SEED)
else
SEED := $(shell date +%s)
endif
endif
pytest:
	$(UV) pytest -q -p no:cacheprovider tests/handlers
	@echo "pytest: random order, seed $(SEED)"
	$(UV) pytest -q -p no:cacheprovider --ignore=tests/reliability --ignore=tests/handlers \
		--random-order-bucket=module --random-order-seed=$(SEED)

## The whole system under faults (kills, outages, poison messages, fuzzing); prints its figures.
reliability:
	$(UV) pytest -q -p no:cacheprovider tests/reliability

## Export the JSON Schema of every contract to contracts/schemas/.
schemas:
	$(UV) python -m scripts.export_schemas

## Generate the OpenAPI and AsyncAPI documents of every service into docs/api/.
docs:
	$(UV) python -m scripts.export_api_docs

## Mint a local bearer token, e.g. make token ROLE=staff SUB=s-1 NAME="Sam Staff"
ROLE ?= customer
SUB ?= c-1
NAME ?= Ada Customer
EMAIL ?= ada@example.com
token:
	@$(UV) python -m services.kit.mint_token --role $(ROLE) --sub $(SUB) --name "$(NAME)" --email $(EMAIL)

## Every benchmark, one table: ours, the ceiling measured in the same run, the ratio, the goal
## (about 10 minutes; its own PostgreSQL and Kafka; BENCHMARKS.md says how to read it).
bench:
	@bash deploy/setup.sh --bench
	$(UV) python -m bench

## Remove the local stack's data (stop it first).
clean:
	@$(UV) python -m deploy.stack clean
