-- Purpose: what the warehouse holds — every unitcost table in the raw and marts schemas.
-- Marts used: none (DuckDB's catalog); `unitcost summary` adds exact row counts.
-- Parameters: none.
-- Database: var/unitcost.analytics.duckdb, the read-only copy each run publishes; open it
--   read-only (`duckdb -readonly ...`). Never the writer file var/unitcost.duckdb.
select
    schema_name,
    table_name
from duckdb_tables()
where schema_name in ('raw', 'marts')
order by schema_name, table_name;
