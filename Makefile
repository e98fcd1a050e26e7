# The commands the README gives. `make up` starts everything; `make test` runs every check.
.PHONY: setup up demo test lint typecheck pytest reliability schemas docs token bench clean

# uv as deploy/setup.sh installs it: on PATH, in ~/.local/bin, or as a module of python3.
export PATH := $(HOME)/.local/bin:$(PATH)
UV = $(shell command -v uv >/dev/null 2>&1 && echo uv || echo python3 -m uv) run --frozen

setup:
	@bash deploy/setup.sh

## Start the whole system: PostgreSQL, Kafka, SMTP and the four services (Ctrl-C stops all).
up: setup
	$(UV) honcho start -f deploy/Procfile -e deploy/local.env -d .

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

pytest:
	$(UV) pytest -q -p no:cacheprovider --ignore=tests/reliability

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

clean:
	rm -rf .local
