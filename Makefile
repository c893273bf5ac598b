# Course tasks. Every target creates .venv and installs requirements.txt when it is missing or
# when requirements.txt / pyproject.toml changed (tracked by a stamp file inside .venv).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.deps-stamp
SHARED_TEXT := ../shared/data/anna_karenina.txt
# JupyterLab refuses to run as root (containers, some CI machines) unless told it is intended.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root,)
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: help lab test lint unit notebooks bench slides test-slides data-cache clean

help:
	@echo "make lab          start JupyterLab on notebooks/"
	@echo "make test         lint, unit tests, every notebook through nbval (quick mode)"
	@echo "make notebooks    re-execute every notebook in place, full mode (what gets committed)"
	@echo "make bench        run the benchmarks in benchmarks/"
	@echo "make slides       export every notebook to build/slides/ (offline reveal.js decks)"
	@echo "make test-slides  check the decks in headless Chromium"

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $(STAMP)

# CI and development machines may hold the novel beside the repository: put it in the cache.
data-cache:
	@mkdir -p data/cache
	@if [ -f $(SHARED_TEXT) ] && [ ! -f data/cache/anna_karenina.txt ]; then \
		cp $(SHARED_TEXT) data/cache/anna_karenina.txt && echo "copied $(SHARED_TEXT) into data/cache/"; \
	fi

# Trusting the notebooks lets JupyterLab show the course stylesheet (load_style() output).
lab: $(STAMP)
	$(VENV)/bin/jupyter trust $(NOTEBOOKS)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks $(LAB_FLAGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Unit tests and every notebook in one pytest run (nbval, lax: only cells marked
# NBVAL_CHECK_OUTPUT compare their output); conftest.py prints each notebook's run time.
test: $(STAMP) data-cache lint
	LECTURE_QUICK=1 $(PY) -m pytest tests $(NOTEBOOKS) --nbval-lax --ignore=tests/slides

unit: $(STAMP) data-cache
	$(PY) -m pytest tests --ignore=tests/slides

# TQDM_DISABLE: progress bars are widgets whose state is not saved; in a committed notebook they
# would show a frozen "0%". Students running the notebooks live still see them.
notebooks: $(STAMP) data-cache
	@for nb in $(NOTEBOOKS); do \
		start=$$(date +%s); \
		env -u LECTURE_QUICK TQDM_DISABLE=1 $(VENV)/bin/jupyter nbconvert --to notebook --execute --inplace \
			--ExecutePreprocessor.timeout=3600 --ExecutePreprocessor.store_widget_state=False \
			"$$nb" || exit 1; \
		echo "$$nb: $$(( $$(date +%s) - start )) s (full mode)"; \
	done

bench: $(STAMP) data-cache
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) "$$b" || exit 1; done

slides: $(STAMP)
	$(PY) slides/build.py

test-slides: slides
	$(PY) -m pytest -q tests/slides

clean:
	rm -rf build .pytest_cache
