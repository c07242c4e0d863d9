# The API server image from the local base, installed from the wheelhouse with no index: compose.offline.yaml.
# docker/api.Dockerfile is the same image from python:3.11-slim-bookworm, for machines with a registry.
FROM api-foundations/python:bookworm AS build
COPY --from=api-foundations/wheels:offline /wheels /wheels
WORKDIR /src
COPY pyproject.toml README* LICENSE* ./
COPY foundations ./foundations
# The project and what it pulls in, as the lock pins it; setuptools, its build backend, is in the wheelhouse.
RUN pip install --no-cache-dir --no-index --find-links /wheels -c /wheels/requirements.lock .

FROM api-foundations/python:bookworm
COPY --from=build /opt/venv /opt/venv
RUN groupadd --system --gid 10001 api \
    && useradd --system --uid 10001 --gid api --no-create-home --shell /usr/sbin/nologin api
USER 10001:10001
# granian, a maintained HTTP server, in front of the app: serve's default, the course's one-thread
# loopserver (chapter 10's appendix), is a lesson, not what an image should ship. Two workers: granian's
# supervisor and worker processes, the mode granian supports (one worker of `serve --interface rsgi` runs
# granian's thread-worker server inside serve's process, which chapter 10's appendix only cross-checks).
ENV FOUNDATIONS_PORT=8080 \
    FOUNDATIONS_HOST=0.0.0.0 \
    FOUNDATIONS_INTERFACE=rsgi \
    FOUNDATIONS_WORKERS=2
EXPOSE 8080
# Liveness: /livez makes no Redis call, so a Redis outage does not get every API container replaced
# (Swarm, or a liveness probe built from this). Readiness, /healthz with Redis, is compose.yaml's healthcheck.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('FOUNDATIONS_PORT', '8080'), timeout=2)"]
CMD ["python", "-m", "foundations", "serve"]
# What `make docker-images` prunes once a rebuild has replaced it (foundations/ops/images.py).
LABEL api-foundations.image-set=offline
