# The workshop's participant image (docker/z2jh-values.yaml) from the local base, installed from the
# wheelhouse with no index. docker/workshop.Dockerfile is the same image from python:3.11-slim-bookworm.
FROM api-foundations/python:bookworm AS build
COPY --from=api-foundations/wheels:offline /wheels /wheels
# The workshop's lock: the learner's pins plus JupyterHub's.
RUN pip install --no-cache-dir --no-index --find-links /wheels -r /wheels/requirements-workshop.lock

FROM api-foundations/python:bookworm
# Unpinned: the versions of the Debian release the base was made from (with its updates).
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*
# The dependencies first, so that a change to the course rebuilds only the layers below.
COPY --from=build /opt/venv /opt/venv
COPY --from=api-foundations/wheels:offline /wheels/setuptools-*.whl /tmp/wheels/
COPY . /opt/foundations
# Editable, as in docker/workshop.Dockerfile: the package finds the course (notebooks/) beside itself;
# setuptools, its build backend, comes from the wheelhouse.
RUN pip install --no-cache-dir --no-index --find-links /tmp/wheels --no-deps -e /opt/foundations \
    && rm -r /tmp/wheels \
    && python -m foundations course install-kernel \
    && useradd --create-home --uid 1000 --shell /bin/bash jovyan
USER 1000:1000
WORKDIR /home/jovyan
EXPOSE 8888
CMD ["jupyterhub-singleuser"]
# What `make docker-images` prunes once a rebuild has replaced it (foundations/ops/images.py).
LABEL api-foundations.image-set=offline
