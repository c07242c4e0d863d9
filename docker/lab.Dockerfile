# JupyterLab for the notebooks, run by compose with the repo mounted at /home/lab/work.
# Dependencies are baked in from requirements.lock; the package itself is not installed: the mounted
# repo is on PYTHONPATH, so edits to foundations/ are live and nothing is written into site-packages.

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/home/lab/work
COPY requirements.lock /tmp/requirements.lock
# The kernel is registered system-wide (as root, /usr/local/share/jupyter/kernels) under the name the
# notebooks' metadata uses, so they open and run under nbval with no kernel prompt.
# uid/gid 1000 matches the first user on most Linux hosts, so files written to the mounted repo stay theirs.
RUN pip install --no-cache-dir -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock \
    && python -m ipykernel install --name api-foundations --display-name "Python (API Foundations)" \
    && useradd --create-home --uid 1000 --shell /bin/bash lab
USER 1000:1000
WORKDIR /home/lab/work
EXPOSE 8888
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8888/api', timeout=2)"]
# The token comes from the JUPYTER_TOKEN env var, which jupyter_server reads itself as the
# IdentityProvider.token default (compose sets it; unset, Jupyter generates one and logs the URL).
# Keeping it off the command line keeps it out of `ps`.
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--ServerApp.root_dir=/home/lab/work/notebooks"]
