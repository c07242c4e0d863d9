# MariaDB from Debian's mariadb-server on the local base, for compose.offline.yaml (the default compose
# runs Percona 8.4, which no Debian package provides). mariadb-entrypoint honours the official images'
# MYSQL_* variables and /docker-entrypoint-initdb.d/*.sql, so compose.yaml's db1 service works unchanged.
FROM api-foundations/debian:bookworm
# Unpinned: the versions of the Debian release the base was made from (with its updates).
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server mariadb-client \
    && rm -rf /var/lib/apt/lists/* \
    # an empty data directory owned by mysql: the named volume starts as a copy of it
    && rm -rf /var/lib/mysql && install -d -o mysql -g mysql /var/lib/mysql /run/mysqld
COPY mariadb-entrypoint /usr/local/bin/mariadb-entrypoint
VOLUME /var/lib/mysql
EXPOSE 3306
ENTRYPOINT ["mariadb-entrypoint"]
# performance_schema on, in a config file that compose's `command:` (which replaces CMD) cannot drop.
COPY performance-schema.cnf /etc/mysql/mariadb.conf.d/60-performance-schema.cnf
COPY connections.cnf /etc/mysql/mariadb.conf.d/61-connections.cnf
CMD ["mariadbd"]
# What `make docker-images` prunes once a rebuild has replaced it (foundations/ops/images.py).
LABEL api-foundations.image-set=offline
