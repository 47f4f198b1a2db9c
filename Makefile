# Every target that makes something is named after the file it makes, so make
# reruns exactly the stages whose inputs changed. `make help` lists the rest.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
SETUP_STAMP := $(VENV)/.setup-done

# Built wheels are kept outside the checkout so that no later setup rebuilds them.
CACHE_HOME ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/extravasation-llm
WHEELHOUSE := $(CACHE_HOME)/wheels
LLAMA_CPP_VERSION := 0.3.36
# LLaVA is not used; skipping it shortens the build by about a third.
LLAMA_CPP_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF

PACKAGE_SOURCES := $(wildcard analysis/*.py analysis/*.yaml analysis/tasks/*.yaml analysis/runs/*.yaml)
RUN ?= embedded
REPORTS ?= data/demo/reports.csv
TRUTH ?= data/demo/ground_truth.csv
PAPER_OUTPUTS := figures/table1a.csv figures/table1a.md

## Show this help
help:
	@awk '/^## /{doc=substr($$0,4); next} /^[a-zA-Z0-9_.\/-]+:/{if(doc){split($$0,t,":"); printf "  \033[1m%-12s\033[0m %s\n", t[1], doc}; doc=""}' $(MAKEFILE_LIST)

## Create .venv (Python 3.11), build llama-cpp-python once, install the package, provision the embedded models
setup: $(SETUP_STAMP)

$(SETUP_STAMP): pyproject.toml analysis/models.yaml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required; set PYTHON=/path/to/python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@mkdir -p $(WHEELHOUSE)
	@if ls $(WHEELHOUSE)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl >/dev/null 2>&1; then \
	  echo "llama-cpp-python $(LLAMA_CPP_VERSION): using the wheel built earlier in $(WHEELHOUSE)"; \
	else \
	  echo "llama-cpp-python $(LLAMA_CPP_VERSION): building from source once (about 5 minutes on 2 cores) ..."; \
	  CMAKE_ARGS="$(LLAMA_CPP_CMAKE_ARGS)" $(BIN)/python -m pip wheel --quiet --no-deps -w $(WHEELHOUSE) llama-cpp-python==$(LLAMA_CPP_VERSION); \
	fi
	$(BIN)/python -m pip install --quiet --find-links $(WHEELHOUSE) -e '.[test]'
	$(BIN)/python -m analysis provision
	touch $@

## Regenerate Table 1A and the executed notebook (starts the embedded LLM server if none answers)
paper: setup
	@$(MAKE) --no-print-directory -q $(PAPER_OUTPUTS) || \
	  $(BIN)/python -m analysis with-server -- $(MAKE) --no-print-directory $(PAPER_OUTPUTS)
	@echo "Up to date: $(PAPER_OUTPUTS)"

# The notebook writes the tables; touching them marks them newer than the notebook it ran in.
$(PAPER_OUTPUTS) &: build/01_label_and_evaluate.ipynb
	@for table in $(PAPER_OUTPUTS); do test -f $$table && touch $$table; done

build/01_label_and_evaluate.ipynb: notebooks/01_label_and_evaluate.py $(PACKAGE_SOURCES) $(REPORTS) $(TRUTH)
	@mkdir -p build
	jupytext --to ipynb --output - $< | papermill --kernel python3 --log-output - $@ \
	  -p run_name $(RUN) -p reports_file $(REPORTS) -p truth_file $(TRUTH)
	jupyter nbconvert --to html --log-level WARN $@

## Run the test suite against the embedded server and real small models
test: setup
	$(BIN)/python -m pytest

## Serve the embedded models on 127.0.0.1:11434 with the Ollama API (Ctrl-C stops it)
serve: setup
	$(BIN)/python -m analysis serve

## Open the notebooks in JupyterLab
lab: setup
	$(BIN)/python -m jupyter lab --notebook-dir=notebooks

## Delete generated outputs; keeps the response cache, the venv and the models
clean:
	rm -rf build data/processed figures/table1a.csv figures/table1a.md

.PHONY: help setup paper test serve lab clean
