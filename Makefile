# Two commands matter: `make run` (the workflow on config/config.yaml) and `make test`.
# Both build a project-local environment in .venv first, from nothing.
PYTHON ?= python3
VENV ?= .venv
# The torch to install when the venv has none: a CPU build here; on a GPU workstation pass
# e.g. TORCH_SPEC="torch==2.13.0 --index-url <your CUDA wheel index>", or keep a torch you have.
TORCH_SPEC ?= torch==2.13.0
CORES ?= all
SNAKEMAKE_ARGS ?=
# Two pytest workers: the end-to-end workflow runs leave a core idle much of the time (start-up,
# serial steps), so a second worker fills it; tests/conftest.py keeps each module, and the
# modules sharing a workflow run, on one worker. PYTEST_ARGS="-n 0 ..." runs in one process.
PYTEST_ARGS ?= -n 2
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Exact versions of every dependency but torch (`make lock` refreshes it). LOCK= (empty) falls
# back to resolving pyproject's ranges, e.g. on a Python the lock has no wheels for.
LOCK ?= requirements.lock
# Offline installs (docs/CLUSTER.md): `make wheelhouse WHEELHOUSE=dir` downloads every wheel on a
# machine with internet; `make install WHEELHOUSE=dir` installs from it with no index.
WHEELHOUSE ?=
PYTHON_VERSION ?=
PLATFORM ?=
PART_SIZE_MB ?= 50
WITH_TORCH ?= 0
ifneq ($(strip $(WHEELHOUSE)),)
# pip's --find-links does not descend into folders: name the wheelhouse and each of its parts.
PIP_SOURCE = --no-index $(addprefix --find-links ,$(abspath $(WHEELHOUSE) $(wildcard $(WHEELHOUSE)/part*)))
endif
# The wheelhouse and lock helpers need only a Python with pip: the venv's if there is one.
TOOLS_PYTHON = $(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON))

.PHONY: install run test lint dry-run report clean lock wheelhouse

install: $(STAMP)

# torch first (only when the venv has none), then the lock, then the project itself with
# --no-deps (pyproject's ranges are not re-resolved), then the assets with --no-deps.
$(STAMP): pyproject.toml requirements-assets.txt $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
ifeq ($(strip $(WHEELHOUSE)),)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet $(TORCH_SPEC)
else
	test -d "$(WHEELHOUSE)" || { echo "no wheelhouse folder $(WHEELHOUSE)" >&2; exit 1; }
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet $(PIP_SOURCE) torch \
	  || { echo "torch is neither in the venv nor in the wheelhouse $(WHEELHOUSE): install it into $(VENV) first, or build the wheelhouse with WITH_TORCH=1" >&2; exit 1; }
endif
ifneq ($(strip $(LOCK)),)
	$(BIN)/python -m pip install --quiet $(PIP_SOURCE) -r $(LOCK)
	$(BIN)/python -m pip install --quiet $(PIP_SOURCE) --no-deps -e .
else
	$(BIN)/python -m pip install --quiet $(PIP_SOURCE) -e ".[test]"
endif
	$(BIN)/python -m pip install --quiet $(PIP_SOURCE) --no-deps -r requirements-assets.txt
	touch $(STAMP)

# Refresh the lock: resolve pyproject's ranges (runtime + test) in a fresh temporary venv
# (torch from TORCH_SPEC installed first, so pip never resolves torch from the index), then
# freeze it without torch, its CUDA companions and the assets. Review `git diff` and run
# `make test` before committing the new lock.
lock:
	set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --upgrade pip setuptools; \
	"$$tmp/venv/bin/python" -m pip install --quiet $(TORCH_SPEC); \
	"$$tmp/venv/bin/python" tools/wheelhouse.py requirements > "$$tmp/requirements.in"; \
	"$$tmp/venv/bin/python" -m pip install --quiet -r "$$tmp/requirements.in"; \
	"$$tmp/venv/bin/python" tools/wheelhouse.py freeze --python "$$tmp/venv/bin/python" -o $(or $(LOCK),requirements.lock)

# Every wheel the project needs (lock + assets + the project + torch with WITH_TORCH=1) for
# PYTHON_VERSION / PLATFORM (default: this machine), split into parts below PART_SIZE_MB.
wheelhouse:
	@test -n "$(WHEELHOUSE)" || { echo "usage: make wheelhouse WHEELHOUSE=dir [PYTHON_VERSION=3.12] [PLATFORM=manylinux_2_28_x86_64] [PART_SIZE_MB=50] [WITH_TORCH=1]" >&2; exit 2; }
	$(TOOLS_PYTHON) tools/wheelhouse.py build --dest "$(WHEELHOUSE)" --lock $(or $(LOCK),requirements.lock) \
	  --assets requirements-assets.txt --part-size-mb $(PART_SIZE_MB) \
	  $(if $(strip $(PYTHON_VERSION)),--python-version $(PYTHON_VERSION)) $(addprefix --platform ,$(PLATFORM)) \
	  $(if $(filter 1 yes true,$(WITH_TORCH)),--torch "$(TORCH_SPEC)")

run: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile rules

dry-run: $(STAMP)
	$(BIN)/snakemake -n $(SNAKEMAKE_ARGS)

report: $(STAMP)
	$(BIN)/snakemake --report results/report.html $(SNAKEMAKE_ARGS)

clean:
	rm -rf results/* .snakemake scratch
