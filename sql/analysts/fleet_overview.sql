-- Purpose: the declared fleet at a glance — deployments and GPUs per GPU type and team.
-- Marts used: marts.dim_deployments.
-- Parameters: none.
-- Database: var/unitcost.analytics.duckdb, the read-only copy each run publishes; open it
--   read-only (`duckdb -readonly ...`). Never the writer file var/unitcost.duckdb.
select
    gpu_type,
    team,
    count(*) as deployments,
    sum(gpu_count) as gpus,
    string_agg(deployment_id, ', ' order by deployment_id) as deployment_ids
from marts.dim_deployments
group by all
order by gpus desc, gpu_type, team;
