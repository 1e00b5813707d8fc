# Two commands do everything on a fresh machine (Python 3.11+ is all it needs):
#   make serve   install into .venv, migrate ./outboundql.db, seed the demo, start http://localhost:8000/graphql
#   make test    install into .venv and run the whole test suite
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.installed

.PHONY: serve test lint typecheck schema clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/outboundql serve --demo $(ARGS)

test: $(STAMP)
	$(VENV)/bin/python -m pytest $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests examples

# mypy --strict ([tool.mypy] in pyproject.toml) on the package as `outboundql`: the editable install's
# import hook is invisible to static tools, so build/typecheck/outboundql links to src/.
typecheck: $(STAMP)
	mkdir -p build/typecheck
	ln -sfn ../../src build/typecheck/outboundql
	MYPYPATH=build/typecheck $(VENV)/bin/mypy -p outboundql $(ARGS)

schema: $(STAMP)
	$(VENV)/bin/outboundql export-schema -o schema.graphql

clean:
	rm -rf $(VENV) build *.egg-info
