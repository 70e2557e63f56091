-- Purpose: the quantization what-if — per deployment the recommendation engine would
--   quantize, its current and quantized cost per month and the saving (cash now, and
--   deferred until a commitment ends), with the target precision and GPUs.
-- Marts used: marts.fct_recommendations (kind = 'quantize'; daily costs, savings, target);
--   marts.dim_deployments (team, current precision and GPUs).
-- Parameters (session variables, see sql/README.md; unset = the default):
--   as_of_date   DATE, default the newest as_of_date in fct_recommendations (is_latest).
-- Database: var/unitcost.analytics.duckdb, the read-only copy each run publishes; open it
--   read-only (`duckdb -readonly ...`). Never the writer file var/unitcost.duckdb.
-- A month is 365/12 days (pipelines/costmodel/units.py). current_monthly_cost_usd is the
--   mart's current_daily_cost_usd × 365 / 12 to the cent, rounded half to even like
--   pipelines/recommend/money.monthly_usd (in integer pico-dollars: DuckDB would turn the
--   division into DOUBLE); monthly_savings_usd is the mart's; quantized_monthly_cost_usd is
--   current - savings, so the three reconcile exactly (it can differ by a cent from the
--   proposed daily cost × 365 / 12 rounded on its own).
with params as (
    select
        coalesce(
            getvariable('as_of_date')::date,
            (select max(as_of_date) from marts.fct_recommendations)
        ) as as_of_date
),

quantize as (
    select
        r.*,
        -- pico-dollars per day x 365, over 12 months x 10^10 pico-dollars per cent
        cast(r.current_daily_cost_usd * 1000000000000 as hugeint) * 365 as pico_x365,
        120000000000::hugeint as pico_per_cent_x12
    from marts.fct_recommendations as r, params as p
    where r.kind = 'quantize' and r.as_of_date = p.as_of_date
),

monthly as (
    select
        *,
        sign(pico_x365) * (abs(pico_x365) // pico_per_cent_x12) as cents_down,
        abs(pico_x365) % pico_per_cent_x12 as remainder
    from quantize
),

rounded as (
    select
        *,
        cast(cast(cents_down + sign(pico_x365) * case
            when 2 * remainder > pico_per_cent_x12 then 1
            when 2 * remainder = pico_per_cent_x12 and abs(cents_down) % 2 = 1 then 1
            else 0
        end as decimal(38, 0)) * 0.01 as decimal(38, 12)) as current_monthly_cost_usd
    from monthly
)

select
    r.as_of_date,
    r.deployment_id,
    d.team,
    d.llm_id,
    d.gpu_type,
    d.weight_precision as current_weight_precision,
    d.gpu_count as current_gpu_count,
    regexp_extract(r.target, '(^|, )weight_precision=([^,]+)', 2) as quantized_weight_precision,
    try_cast(regexp_extract(r.target, '(^|, )num_gpus=([^,]+)', 2) as integer)
        as quantized_gpu_count,
    r.current_daily_cost_usd,
    r.proposed_daily_cost_usd,
    r.current_monthly_cost_usd,
    r.current_monthly_cost_usd - r.monthly_savings_usd as quantized_monthly_cost_usd,
    r.monthly_savings_usd,
    r.cash_monthly_savings_usd,
    r.deferred_monthly_savings_usd,
    r.commitment_end_date,
    r.confidence,
    r.target,
    r.summary
from rounded as r
left join marts.dim_deployments as d on r.deployment_id = d.deployment_id
order by r.monthly_savings_usd desc, r.deployment_id;
