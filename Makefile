# jgx — everything a developer or CI needs, from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all demo test lint browser softhsm proto proto-check clean bench help docs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP) ## set up and run the demonstration on the embedded SQLite store
	$(BIN)/jgx demo

test: $(STAMP) lint browser softhsm ## set up, lint, type-check and run the whole test suite
	$(BIN)/python -m pytest -q

browser: ## Debian's chromium (and a CJK font) for the console's browser tests, when absent
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium fonts-wqy-zenhei)

softhsm: ## Debian's SoftHSM2 (a PKCS#11 token in files) for the token-key tests, when absent
	@command -v softhsm2-util >/dev/null || (apt-get update && apt-get install -y softhsm2)

lint: $(STAMP) ## ruff and mypy --strict on the packages, the benchmarks and the tools
	$(BIN)/ruff check standards gateway adapters conformance tests bench tools
	$(BIN)/mypy standards gateway adapters conformance bench tools

proto: $(STAMP) ## regenerate gateway/pb from proto/
	$(BIN)/python tools/genproto.py

docs: $(STAMP) ## regenerate docs/standards.md, standards/data and docs/wire.md's tables from their sources
	$(BIN)/python tools/author_standards.py
	$(BIN)/python -m standards.docs > docs/standards.md
	$(BIN)/python tools/genwire.py

bench: $(STAMP) ## run the benchmarks (tables; numbers go into bench/README.md)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean: ## remove the virtual environment and caches
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info
