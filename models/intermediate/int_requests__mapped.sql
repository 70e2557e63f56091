{{ config(tags=['daily']) }}

{#- Each request with the deployment that served it, through the registry's claims valid at
    its arrival: first its model name; failing that, its host or Kubernetes namespace when
    exactly one deployment holds them then. Unmatched requests stay, with deployment_id NULL.
    A view: the hourly rollup and the phases read only their partition window through it.

    One pass over the requests, never a join of requests with themselves on their ids (at
    18 M requests a day, two such joins took three quarters of the hourly rollup's 56 s):
    each claim on a place is cut into spans at every validity boundary of that place, so a
    request finds at most one span per place, which already knows how many deployments
    hold the place then. -#}

{#- By place only when the host and the namespace together name exactly one deployment. -#}
{%- set place_deployment -%}
    (case
        when coalesce(h.deployments, 0) > 1 or coalesce(n.deployments, 0) > 1 then null
        when h.deployments = 1 and n.deployments = 1
            and h.deployment_id <> n.deployment_id then null
        else coalesce(h.deployment_id, n.deployment_id)
    end)
{%- endset %}

with requests as (
    select * from {{ ref('stg_requests__inference_requests') }}
),

claims as (
    select
        selector_kind,
        selector_value,
        host,
        deployment_id,
        cast(valid_from as {{ t_timestamptz() }}) as valid_from,
        cast(valid_to as {{ t_timestamptz() }}) as valid_to
    from {{ ref('int_registry__resource_claims') }}
),

-- Open ends as infinity: a left join keeps a hash join only when every condition compares
-- a column of each side (an IS NULL OR ... would make it a nested loop over all requests).
model_claims as (
    select
        selector_value as model_name,
        deployment_id,
        valid_from,
        coalesce(valid_to, {{ ts_infinity() }}) as valid_to
    from claims
    where selector_kind = 'request_model_name'
),

places as (
    select distinct
        selector_kind,
        coalesce(host, selector_value) as place,
        deployment_id,
        valid_from,
        valid_to
    from claims
    where selector_kind in ('host_gpu', 'kubernetes')
),

boundaries as (
    select selector_kind, place, valid_from as span_start from places
    union
    select selector_kind, place, valid_to from places where valid_to is not null
),

spans as (
    select
        selector_kind,
        place,
        span_start,
        lead(span_start, 1, {{ ts_infinity() }})
            over (partition by selector_kind, place order by span_start) as span_end
    from boundaries
),

-- A claim covers a span whole or not at all: every claim's bounds are span bounds.
place_spans as (
    select
        s.selector_kind,
        s.place,
        s.span_start,
        s.span_end,
        count(distinct p.deployment_id) as deployments,
        min(p.deployment_id) as deployment_id
    from spans as s
    inner join places as p
        on s.selector_kind = p.selector_kind
        and s.place = p.place
        and p.valid_from <= s.span_start
        and (p.valid_to is null or p.valid_to > s.span_start)
    group by all
),

host_spans as (select * from place_spans where selector_kind = 'host_gpu'),

namespace_spans as (select * from place_spans where selector_kind = 'kubernetes'),

deployment_hosts as (
    select distinct deployment_id, place as host from places where selector_kind = 'host_gpu'
),

-- No `* EXCLUDE` of helper columns here: DuckDB renders an EXCLUDE list in no fixed order,
-- so the view's stored text would change when the WAL replays it (a killed run's view would
-- differ from a clean one's).
final as (
    select
        r.*,
        coalesce(m.deployment_id, {{ place_deployment }}) as deployment_id,
        case
            when m.deployment_id is not null then 'model_name'
            when {{ place_deployment }} is not null and h.deployments = 1 then 'host'
            when {{ place_deployment }} is not null then 'namespace'
            else 'unmapped'
        end as mapped_by,
        m.deployment_id is not null
        and r.host is not null
        and m.deployment_id in (select deployment_id from deployment_hosts)
        and dh.host is null as host_mismatch
    from requests as r
    left join model_claims as m
        on r.model_name = m.model_name
        and r.arrival_ts >= m.valid_from
        and r.arrival_ts < m.valid_to
    left join host_spans as h
        on r.host = h.place
        and r.arrival_ts >= h.span_start
        and r.arrival_ts < h.span_end
    left join namespace_spans as n
        on r.namespace = n.place
        and r.arrival_ts >= n.span_start
        and r.arrival_ts < n.span_end
    left join deployment_hosts as dh
        on m.deployment_id = dh.deployment_id and r.host = dh.host
)

select * from final
