# The workshop's participant image (docker/z2jh-values.yaml) from the local base, installed from the
# wheelhouse with no index. docker/workshop.Dockerfile is the same image from python:3.11-slim-bookworm.
FROM api-foundations/python:bookworm AS build
COPY --from=api-foundations/wheels:offline /wheels /wheels
# The workshop's lock: the learner's pins plus JupyterHub's.
RUN pip install --no-cache-dir --no-index --find-links /wheels -r /wheels/requirements-workshop.lock

FROM api-foundations/python:bookworm
# Redis for the participant's own three (`workshop up` starts them in their container); MariaDB only for the
# project's tests, which chapter 11 runs and which start services of their own.
# Unpinned: the versions of the Debian release the base was made from (with its updates).
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server mariadb-server \
    && rm -rf /var/lib/apt/lists/*
# The dependencies first, so that a change to the course rebuilds only the layers below.
# In place of the base's venv, not merged into it: the base's pip and setuptools would stay beside the
# pinned ones (the doctor's check of notebook 00 then fails).
RUN rm -rf /opt/venv
COPY --from=build /opt/venv /opt/venv
# No package index reaches a participant's container (`workshop up`: its network is internal): pip
# (chapter 11 builds a wheel, whose build needs setuptools) installs from the wheels kept here.
COPY --from=api-foundations/wheels:offline /wheels/setuptools-*.whl /opt/wheels/
ENV PIP_NO_INDEX=1 \
    PIP_FIND_LINKS=/opt/wheels
COPY . /opt/foundations
# Editable, as in docker/workshop.Dockerfile: the package finds the course (notebooks/) beside itself;
# setuptools, its build backend, comes from the wheelhouse.
RUN pip install --no-cache-dir --no-deps -e /opt/foundations \
    && python -m foundations course install-kernel \
    && useradd --create-home --uid 1000 --shell /bin/bash jovyan
USER 1000:1000
WORKDIR /home/jovyan
EXPOSE 8888
CMD ["jupyterhub-singleuser"]
# What `make docker-images` prunes once a rebuild has replaced it (foundations/ops/images.py).
LABEL api-foundations.image-set=offline
