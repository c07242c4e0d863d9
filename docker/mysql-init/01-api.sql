-- Run once by the image entrypoint, on an empty data directory only, after it has created database
-- `api` and user 'api'@'%' from MYSQL_DATABASE / MYSQL_USER / MYSQL_PASSWORD.
-- Valid on MySQL/Percona 8.4 and MariaDB 10.11+: no MySQL-only collations (utf8mb4_0900_*), no
-- MariaDB-only syntax. To re-run it: `docker compose down -v` (drops the db-data volume).

-- utf8mb4_unicode_ci exists on both servers (MySQL's default utf8mb4_0900_ai_ci does not exist on
-- MariaDB), so sorting and comparisons in the notebooks match the local MariaDB runs.
ALTER DATABASE `api` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- The entrypoint already grants this; stated here so the account's rights are readable in one place.
GRANT ALL PRIVILEGES ON `api`.* TO 'api'@'%';

-- Tests and notebooks each use their own schema (api_<name>) so runs can repeat and run in parallel.
-- `\_` is a literal underscore; `%` is the wildcard. (MySQL 8.4 still accepts wildcard database
-- grants but marks them deprecated; MariaDB has no such plan.)
GRANT ALL PRIVILEGES ON `api\_%`.* TO 'api'@'%';

-- Notebook 08 reads the statement digests (performance_schema.events_statements_summary_by_digest).
GRANT SELECT ON `performance_schema`.* TO 'api'@'%';
