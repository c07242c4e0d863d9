# JupyterLab from the local base, installed from the wheelhouse with no index: compose.offline.yaml.
# docker/lab.Dockerfile is the same image from python:3.11-slim-bookworm; this one runs the same way
# (the repo mounted at /home/lab/work and on PYTHONPATH, the launcher `make lab` uses).
FROM api-foundations/python:bookworm AS build
COPY --from=api-foundations/wheels:offline /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels -r /wheels/requirements.lock

FROM api-foundations/python:bookworm
# What `make lab` has on Debian: chapter 10's load generators, redis-cli (chapter 7) and redis-server
# (chapter 11 starts a Redis of its own).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends apache2-utils wrk redis-server \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
# No package index reaches this machine's containers: pip (chapter 11 builds a wheel, whose build needs
# setuptools) installs from the wheels kept here.
COPY --from=api-foundations/wheels:offline /wheels/setuptools-*.whl /opt/wheels/
ENV PYTHONPATH=/home/lab/work \
    PIP_NO_INDEX=1 \
    PIP_FIND_LINKS=/opt/wheels
# The course's kernel (foundations/course/kernel.py, from the mounted repo at run time), as docker/lab.Dockerfile.
RUN python -m ipykernel install --name api-foundations --display-name "Python (API Foundations)" \
    && sed -i 's/"ipykernel_launcher"/"foundations.course.kernel"/' \
        /usr/local/share/jupyter/kernels/api-foundations/kernel.json \
    && useradd --create-home --uid 1000 --shell /bin/bash lab \
    && chmod 1777 /home/lab
USER 1000:1000
# HOME for any uid compose runs it as (LAB_USER): Jupyter keeps its runtime files there.
ENV HOME=/home/lab
WORKDIR /home/lab/work
EXPOSE 8888
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8888/api', timeout=2)"]
CMD ["python", "-m", "foundations", "lab", "--lab-ip", "0.0.0.0", "--lab-port", "8888"]
# What `make docker-images` prunes once a rebuild has replaced it (foundations/ops/images.py).
LABEL api-foundations.image-set=offline
