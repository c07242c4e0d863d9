# The participant image for a room past one machine (docker/z2jh-values.yaml). Build from the repo root:
#   docker build -f docker/workshop.Dockerfile -t foundations-workshop .
# The lab's pinned dependencies (JupyterHub's single-user server included), the course at /opt/foundations,
# and redis-server: each participant's pod runs `services up --local` for their three
# Redis and API server, as `workshop up` does on one machine, so notebook 07 can restart their redis2.
# MariaDB is a container beside it in the pod (the values file).

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server=5:7.0.15-1~deb12u10 \
    && rm -rf /var/lib/apt/lists/*
# The workshop's lock: the learner's pins plus JupyterHub's (jupyterhub-singleuser is what the hub starts).
COPY requirements-workshop.lock /tmp/requirements-workshop.lock
RUN pip install --no-cache-dir -r /tmp/requirements-workshop.lock && rm /tmp/requirements-workshop.lock
# The whole course (.dockerignore leaves out .venv, .git, .workshop): participants get a copy at first start.
COPY . /opt/foundations
# Editable: the package finds the course (notebooks/) beside itself, as in a checkout.
RUN pip install --no-cache-dir --no-deps -e /opt/foundations \
    && python -m foundations course install-kernel \
    && useradd --create-home --uid 1000 --shell /bin/bash jovyan
USER 1000:1000
WORKDIR /home/jovyan
EXPOSE 8888
CMD ["jupyterhub-singleuser"]
