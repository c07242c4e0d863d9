# Python from Debian on the local base: what the api, lab and workshop images start FROM offline.
# The base is made from Debian's packages by `make docker-images` (foundations/ops/images.py); no registry.
FROM api-foundations/debian:bookworm
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
# Every image then installs into /opt/venv (on PATH, so `python` is its interpreter, as in the python images).
# Unpinned: the versions of the Debian release the base was made from (with its updates).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv
