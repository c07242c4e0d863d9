# JupyterLab from the local base, installed from the wheelhouse with no index: compose.offline.yaml.
# docker/lab.Dockerfile is the same image from python:3.11-slim-bookworm; this one runs the same way
# (the repo mounted at /home/lab/work and on PYTHONPATH, the launcher `make lab` uses).
FROM api-foundations/python:bookworm AS build
COPY --from=api-foundations/wheels:offline /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels -r /wheels/requirements.lock

FROM api-foundations/python:bookworm
# Chapter 10's load generators, as `make lab` has them on Debian.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends apache2-utils wrk \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
ENV PYTHONPATH=/home/lab/work
RUN python -m ipykernel install --name api-foundations --display-name "Python (API Foundations)" \
    && useradd --create-home --uid 1000 --shell /bin/bash lab
USER 1000:1000
WORKDIR /home/lab/work
EXPOSE 8888
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8888/api', timeout=2)"]
CMD ["python", "-m", "foundations", "lab", "--lab-ip", "0.0.0.0", "--lab-port", "8888"]
