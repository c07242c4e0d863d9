# Redis from Debian's redis-server on the local base, for compose.offline.yaml.
FROM api-foundations/debian:bookworm
# Unpinned: the versions of the Debian release the base was made from (with its updates).
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*
# As the official image does: with no config file, protected mode would refuse every client that is not on
# loopback (the other containers), so `redis-server ARGS` runs with it off. compose.yaml's ACL keeps DEBUG
# to its user `lab`.
RUN printf '#!/bin/sh\n[ "$1" = redis-server ] && shift && set -- redis-server --protected-mode no "$@"\nexec "$@"\n' \
        >/usr/local/bin/redis-entrypoint \
    && chmod 755 /usr/local/bin/redis-entrypoint
USER redis
WORKDIR /var/lib/redis
EXPOSE 6379
ENTRYPOINT ["redis-entrypoint"]
CMD ["redis-server"]
# What `make docker-images` prunes once a rebuild has replaced it (foundations/ops/images.py).
LABEL api-foundations.image-set=offline
