# The API server image (chapter 11: "build, deploy, Docker image"). Build from the repo root:
#   docker build -f docker/api.Dockerfile -t foundations-api .
# Two stages: the first builds a wheel of the project, the second installs only that wheel and its
# pinned dependencies, so the image has no source tree, build tools or pip cache.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
# Only what the wheel needs (not the notebooks, tests or a local .venv). README*/LICENSE* may be
# referenced by pyproject.toml; the wildcards let the COPY succeed when they are absent.
COPY pyproject.toml requirements.lock README* LICENSE* ./
COPY foundations ./foundations
# PIP_CONSTRAINT also reaches pip's isolated build environment, unlike `-c`.
RUN PIP_CONSTRAINT=requirements.lock pip wheel --no-cache-dir --no-deps -w /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.lock /tmp/requirements.lock
COPY --from=build /wheels /wheels
# The lock pins every dependency the wheel pulls in: the image gets the versions the tests ran with.
# A numeric USER lets runtimes (e.g. Kubernetes runAsNonRoot) verify that it is not root.
RUN pip install --no-cache-dir -c /tmp/requirements.lock /wheels/*.whl \
    && rm -r /tmp/requirements.lock /wheels \
    && groupadd --system --gid 10001 api \
    && useradd --system --uid 10001 --gid api --no-create-home --shell /usr/sbin/nologin api
USER 10001:10001
# foundations.config reads FOUNDATIONS_*; flags on the command line still win (flag > env > default).
# granian, a maintained HTTP server, in front of the app: serve's default, the course's one-thread
# loopserver (chapter 10's appendix), is a lesson, not what an image should ship. Two workers: granian's
# supervisor and worker processes, the mode granian supports (one worker of `serve --interface rsgi` runs
# granian's thread-worker server inside serve's process, which chapter 10's appendix only cross-checks).
ENV FOUNDATIONS_PORT=8080 \
    FOUNDATIONS_HOST=0.0.0.0 \
    FOUNDATIONS_INTERFACE=rsgi \
    FOUNDATIONS_WORKERS=2
EXPOSE 8080
# No curl in the slim image; urlopen raises on a refused connection or a non-2xx answer.
# Liveness: /livez makes no Redis call, so a Redis outage does not get every API container replaced
# (Swarm, or a liveness probe built from this). Readiness, /healthz with Redis, is compose.yaml's healthcheck.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('FOUNDATIONS_PORT', '8080'), timeout=2)"]
CMD ["python", "-m", "foundations", "serve"]
