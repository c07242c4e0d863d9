# The workshop's participant image (docker/z2jh-values.yaml) from the local base, installed from the
# wheelhouse with no index. docker/workshop.Dockerfile is the same image from python:3.11-slim-bookworm.
FROM api-foundations/python:bookworm AS build
COPY --from=api-foundations/wheels:offline /wheels /wheels
# requirements-workshop.lock when the project has one; else the lock, whose pins include JupyterHub's.
RUN lock=/wheels/requirements-workshop.lock; [ -f "$lock" ] || lock=/wheels/requirements.lock; \
    pip install --no-cache-dir --no-index --find-links /wheels -r "$lock"
# Editable, as in docker/workshop.Dockerfile: the package finds the course (notebooks/) beside itself;
# setuptools, its build backend, is in the wheelhouse. The final stage copies the course to the same path.
COPY . /opt/foundations
RUN pip install --no-cache-dir --no-index --find-links /wheels --no-deps -e /opt/foundations

FROM api-foundations/python:bookworm
# Unpinned: the versions of the Debian release the base was made from (with its updates).
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
COPY . /opt/foundations
RUN python -m ipykernel install --name api-foundations --display-name "Python (API Foundations)" \
    && useradd --create-home --uid 1000 --shell /bin/bash jovyan
USER 1000:1000
WORKDIR /home/jovyan
EXPOSE 8888
CMD ["jupyterhub-singleuser"]
