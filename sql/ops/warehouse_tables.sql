-- Purpose: what the warehouse holds — every unitcost table in the raw and marts schemas.
-- Marts used: none (DuckDB's catalog); `unitcost summary` adds exact row counts.
-- Parameters: none.
-- Database: the warehouse `unitcost summary` is given (`pipelines/summary.py`), opened
--   read-only; by hand, var/unitcost.analytics.duckdb (`duckdb -readonly ...`).
select
    schema_name,
    table_name
from duckdb_tables()
where schema_name in ('raw', 'marts')
order by schema_name, table_name;
