# The README's two commands: `make lab` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LAB_PORT ?= 8888
TOKEN  ?= $(shell $(PYTHON) -c 'import secrets; print(secrets.token_hex(16))')
PYTEST_ARGS ?=
# Two workers, each with services of its own (conftest.py), about halve the notebook part on 2 cores;
# loadscope keeps a notebook's cells on one worker, in order. TEST_WORKERS=0: one process, as before.
TEST_WORKERS ?= 2

.PHONY: install lab test services-up services-down status doctor refresh-outputs navigation clean

install: $(STAMP)

# Reinstall only when the pins or the package metadata change.
$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name api-foundations --display-name "Python (API Foundations)" >/dev/null
	touch $(STAMP)

lab: install services-up
	@echo "JupyterLab: http://127.0.0.1:$(LAB_PORT)/lab?token=$(TOKEN)   (Ctrl-C stops it; make services-down stops the services)"
	$(VENV)/bin/jupyter lab --no-browser --ip=127.0.0.1 --port=$(LAB_PORT) \
		--IdentityProvider.token=$(TOKEN) --ServerApp.root_dir=notebooks

test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

services-up: install
	$(PY) -m foundations services up

services-down:
	test ! -x $(PY) || $(PY) -m foundations services down

status doctor: install
	$(PY) -m foundations $(if $(filter status,$@),services status,doctor)

# Same kernel, executor family and kind of services (fresh, free ports) as the nbval run in `make test`.
refresh-outputs: install
	$(PY) -m foundations.course.navigation
	$(PY) -m foundations.course.refresh $(or $(NOTEBOOKS),notebooks/[0-9][0-9]_*.ipynb)

navigation: install
	$(PY) -m foundations.course.navigation

clean: services-down
	rm -rf $(VENV) .state .pytest_cache .coverage htmlcov build *.egg-info
