# The README's two commands: `make lab` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
LAB_PORT ?= 8888
PYTEST_ARGS ?=
# Two workers, each with services of its own (conftest.py), about halve the notebook part on 2 cores;
# loadscope keeps a notebook's cells on one worker, in order, and files go out in conftest.py's order
# (longest first), not by their number of tests. TEST_WORKERS=0: one process, as before.
TEST_WORKERS ?= 2

.PHONY: help install reinstall install-workshop install-test lock lab test services-up services-down status doctor refresh-outputs navigation clean workshop wheelhouse docker-images

help:  ## this list
	@grep -E '^[a-z][a-z -]*:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-16s %s\n", $$1, $$2}'

# Three audiences, three locks from one resolver (`make lock`): the learner's lab (requirements.lock), plus the
# workshop's hub (requirements-workshop.lock), plus the test tools (requirements-test.lock). uv installs them,
# bootstrapped with pip at the version the lock pins: about 3x faster than pip for the same lock (README).
UV_PIN := $(shell grep -m1 '^uv==' requirements.lock)
UV := $(VENV)/bin/uv
# uv reads the system's certificate store (a proxy's CA included), and the offline kit's pip variables. It writes
# the .pyc files as pip does: without them every process (kernel, server) compiles what it imports, each time
# where PYTHONDONTWRITEBYTECODE is set, and keeps the compiler's garbage in its heap.
UV_INSTALL = UV_SYSTEM_CERTS=1 $(UV) pip install --python $(PY) --compile-bytecode \
	$(if $(PIP_NO_INDEX),--no-index) $(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS))

install: $(VENV)/.installed-lab  ## create .venv with the learner's pinned packages and the project's kernel
install-workshop: $(VENV)/.installed-workshop  ## the learner's packages plus JupyterHub's
install-test: $(VENV)/.installed-test  ## everything make test needs (lab, workshop and test tools)
reinstall:  ## put the learner's pinned packages and the kernel back, even when no lock changed (doctor's fix)
	rm -f $(VENV)/.installed-lab
	$(MAKE) install

# Reinstall only when a lock or the package metadata change; a bigger install includes the smaller ones.
$(VENV)/.installed-lab: requirements.lock pyproject.toml
	$(call install_from,requirements.lock)
$(VENV)/.installed-workshop: requirements-workshop.lock pyproject.toml
	$(call install_from,requirements-workshop.lock)
	touch $(VENV)/.installed-lab
$(VENV)/.installed-test: requirements-test.lock pyproject.toml
	$(call install_from,requirements-test.lock)
	touch $(VENV)/.installed-lab $(VENV)/.installed-workshop

define install_from
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install -q --disable-pip-version-check $(UV_PIN)
	@echo "installing the pins of $(1) into $(VENV) with uv..."
	$(UV_INSTALL) -r $(1)
	$(UV_INSTALL) --no-deps -e .
	$(PY) -m foundations course install-kernel >/dev/null
	touch $@
endef

# One resolver for the three locks: the test lock (every extra) first, then the others constrained to it, so a
# package has the same version in all three. Pins stay where they are unless UPGRADE=1.
UV_COMPILE = UV_SYSTEM_CERTS=1 $(UV) pip compile pyproject.toml --universal --python-version 3.11 --no-header \
	--no-annotate -q $(if $(UPGRADE),--upgrade)
lock: $(VENV)/.installed-lab  ## regenerate the three locks from pyproject.toml (UPGRADE=1: newest releases)
	$(UV_COMPILE) --all-extras -o requirements-test.lock
	$(UV_COMPILE) --extra lab --extra workshop -c requirements-test.lock -o requirements-workshop.lock
	$(UV_COMPILE) --extra lab -c requirements-test.lock -o requirements.lock

# Services, then JupyterLab (foundations/ops/lab.py): one token, from JUPYTER_TOKEN or made once, reaches
# Jupyter through its environment (not `ps`); the URL printed once it answers opens 00_index.ipynb.
lab: install  ## start every service, then JupyterLab on 00_index.ipynb (prints the URL)
	@$(PY) -m foundations lab --lab-port $(LAB_PORT)

# Only the plugins the suite uses: the others installed beside them (schemathesis's, anyio's...) would add
# seconds to the start of the run and of every worker.
PYTEST_PLUGINS := -p xdist.plugin -p nbval.plugin -p _hypothesis_pytestplugin

test: install-test  ## every check: ruff, unit, live integration, browser, and every notebook under nbval
	PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 $(PY) -m pytest $(PYTEST_PLUGINS) -n $(TEST_WORKERS) --dist loadscope \
		--no-loadscope-reorder $(PYTEST_ARGS)

services-up: install  ## start Redis x3, MariaDB and the API server (Docker if an engine runs, else local daemons)
	$(PY) -m foundations services up

services-down:  ## stop the services
	test ! -x $(PY) || $(PY) -m foundations services down

status doctor: install  ## services status / the doctor's checks, one line of fix per failure
	$(PY) -m foundations $(if $(filter status,$@),services status,doctor)

# Same kernel, executor family and kind of services (fresh) as the nbval run in `make test`, but on the
# default ports, so stored outputs show the addresses the text names.
refresh-outputs: install  ## re-execute notebooks in place (NOTEBOOKS=notebooks/07_redis.ipynb for one)
	$(PY) -m foundations course navigation
	$(PY) -m foundations course refresh $(or $(NOTEBOOKS),notebooks/[0-9][0-9]_*.ipynb)

navigation: install  ## regenerate the < prev | Contents | next > lines
	$(PY) -m foundations course navigation

# A workshop's hub (docs/workshop.md): make workshop PARTICIPANTS=alice,bob CODE=orange-river-42 [WORKSHOP_ARGS=--dry-run]
PARTICIPANTS ?=
CODE ?=
WORKSHOP_ARGS ?=
workshop: install-workshop  ## a JupyterHub for a room (PARTICIPANTS=alice,bob CODE=...; docs/workshop.md)
	$(PY) -m foundations workshop up $(if $(PARTICIPANTS),--participants $(PARTICIPANTS)) \
		$(if $(CODE),--code $(CODE)) $(WORKSHOP_ARGS)

# The offline kit: every pinned wheel and the proxy's npm packages in one folder (docs/workshop.md).
WHEELHOUSE ?= wheelhouse
wheelhouse: install-workshop  ## every pinned wheel and the proxy's npm packages in one folder, for offline installs
	$(PY) -m foundations workshop wheelhouse $(WHEELHOUSE)

# Compose's images with no container registry (foundations/ops/images.py): a Debian base from debootstrap (as
# root), Redis and MariaDB from Debian, api/lab/workshop from the wheelhouse. Then COMPOSE_FILE selects them.
docker-images: install  ## build the offline image set for compose.offline.yaml (no registry needed)
	$(PY) -m foundations images

clean:  ## stop the services and remove their data, .venv and .state
	test ! -x $(PY) || $(PY) -m foundations services clean
	rm -rf $(VENV) .state .pytest_cache .coverage htmlcov build *.egg-info
