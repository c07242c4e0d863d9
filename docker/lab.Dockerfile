# JupyterLab for the notebooks, run by compose with the repo mounted at /home/lab/work.
# Dependencies are baked in from requirements.lock; the package itself is not installed: the mounted
# repo is on PYTHONPATH, so edits to foundations/ are live and nothing is written into site-packages.

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/home/lab/work
# What `make lab` has on Debian: chapter 10's load generators, redis-cli (chapter 7) and redis-server
# (chapter 11 starts a Redis of its own).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends apache2-utils wrk redis-server \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.lock /tmp/requirements.lock
# The kernel is registered system-wide (as root, /usr/local/share/jupyter/kernels) under the name the
# notebooks' metadata uses, so they open and run under nbval with no kernel prompt. It runs the course's
# kernel (foundations/course/kernel.py, from the mounted repo at run time), so notebooks open unmodified.
# uid/gid 1000 matches the first user on most Linux hosts, so files written to the mounted repo stay theirs.
RUN pip install --no-cache-dir -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock \
    && python -m ipykernel install --name api-foundations --display-name "Python (API Foundations)" \
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
# The launcher `make lab` uses (foundations/ops/lab.py): the token from JUPYTER_TOKEN or made at start and
# printed with the URL (`docker compose logs lab`), passed through the environment, never argv. It listens
# on 0.0.0.0 so the published port (127.0.0.1 only) reaches it, and keeps Jupyter's Host-header check on
# (allow_remote_access=False), which jupyter_server would otherwise drop for a non-loopback address.
CMD ["python", "-m", "foundations", "lab", "--lab-ip", "0.0.0.0", "--lab-port", "8888"]
