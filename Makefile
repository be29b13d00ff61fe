# Every target does its own set-up: a fresh machine needs only python3, pip and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: install test test-matrix docs mutation test-deep lint typecheck regen regen-check update-spec demo bench prism clean

install: $(STAMP)

$(STAMP): requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

lint: install
	$(BIN)/ruff check wrapper tests openapi bench
	$(BIN)/ruff format --check wrapper tests openapi bench

typecheck: install
	$(BIN)/mypy --strict wrapper/zhipu_images tests
	$(BIN)/mypy generated/zhipu_images_api generated/openai_images_api

# The official SDKs, run as real clients of the fake platform, in a venv of their own.
SDK_VENV  := .venv-sdk
SDK_STAMP := $(SDK_VENV)/.installed-stamp

$(SDK_STAMP): tests/sdk-requirements.txt pyproject.toml
	$(PYTHON) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r tests/sdk-requirements.txt
	touch $(SDK_STAMP)

# One worker per core (pytest-xdist): the suite waits on subprocesses and servers more than it computes.
test: lint typecheck $(SDK_STAMP)
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest -n auto

# The suite with the oldest versions pyproject.toml allows, the newest, and on each Python of 3.11-3.13 found.
test-matrix: $(SDK_STAMP)
	$(PYTHON) tests/matrix/run.py

# The documentation site, into site/: MkDocs Material in a venv of its own; a broken link or reference fails it.
DOCS_VENV  := .venv-docs
DOCS_STAMP := $(DOCS_VENV)/.installed-stamp

$(DOCS_STAMP): docs/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r docs/requirements.txt -c requirements-dev.txt -e '.[cli]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(DOCS_VENV)/bin/mkdocs build --strict --quiet

# Mutation testing (mutmut) of the modules that decide money and validity; see [tool.mutmut] in pyproject.toml.
MUTATION_VENV  := .venv-mutation
MUTATION_STAMP := $(MUTATION_VENV)/.installed-stamp

$(MUTATION_STAMP): requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(MUTATION_VENV)
	$(MUTATION_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt mutmut==3.8.1
	# installed (not editable) for its pytest plugin's entry point; the mutated copy comes first on the path
	$(MUTATION_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps .
	rm -rf build
	touch $(MUTATION_STAMP)

mutation: $(MUTATION_STAMP)
	$(MUTATION_VENV)/bin/python tests/mutation/run.py

test-deep: install
	HYPOTHESIS_PROFILE=deep $(BIN)/pytest -n auto

regen: install
	$(BIN)/python openapi/regen.py

# make update-spec PAGE=path/to/page.md [SPEC=openai]: vendor the spec a docs page publishes, regen, report.
update-spec: install
	$(BIN)/python openapi/update_spec.py $(PAGE) --spec $(or $(SPEC),zhipu)

regen-check: install
	$(BIN)/python openapi/regen.py --check

# Prism (npm), for the conformance test against a schema-only mock; the tests install it the same way.
prism:
	$(PYTHON) tests/prism.py

demo: install
	$(BIN)/zhipu-images generate "一只可爱的小猫咪，坐在阳光明媚的窗台上" --model glm-image --fake --out images

# The comparison SDKs live in their own venv: they must not leak into the test environment.
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-stamp

$(BENCH_STAMP): bench/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-build-isolation -e .
	touch $(BENCH_STAMP)

# The library as a service installs it: only its runtime dependencies (and the redis extra), pinned as in
# development. make bench measures the library here, and the comparison SDKs in $(BENCH_VENV).
LIB_VENV  := .venv-lib
LIB_STAMP := $(LIB_VENV)/.installed-stamp

$(LIB_STAMP): pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(LIB_VENV)
	$(LIB_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c requirements-dev.txt -e '.[all]'
	touch $(LIB_STAMP)

# A package pip installed has its bytecode compiled; this editable one has not, and where PYTHONDONTWRITEBYTECODE
# is set every process of the bench would compile it again (~50 ms of each start that httpx does not pay).
bench: $(BENCH_STAMP) $(LIB_STAMP)
	$(LIB_VENV)/bin/python -m compileall -q wrapper generated
	ZHIPU_IMAGES_BENCH_LIB_PYTHON=$(LIB_VENV)/bin/python $(BENCH_VENV)/bin/python -m bench

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(LIB_VENV) $(SDK_VENV) $(DOCS_VENV) $(MUTATION_VENV) .venv-matrix .mutation site .mypy_cache .ruff_cache .hypothesis build dist
