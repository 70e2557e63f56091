{{ config(tags=['daily']) }}

{#- Each request with the deployment that served it, through the registry's claims valid at
    its arrival: first its model name; failing that, its host or Kubernetes namespace when
    exactly one deployment holds it then. Unmatched requests stay, with deployment_id NULL.
    A view: the hourly rollup reads only its partition window through it. -#}

with requests as (
    select * from {{ ref('stg_requests__inference_requests') }}
),

claims as (
    select * from {{ ref('int_registry__resource_claims') }}
),

by_model as (
    select r.request_source, r.request_id, c.deployment_id
    from requests as r
    inner join claims as c
        on c.selector_kind = 'request_model_name'
        and c.selector_value = r.model_name
        and r.arrival_ts >= cast(c.valid_from as timestamptz)
        and (c.valid_to is null or r.arrival_ts < cast(c.valid_to as timestamptz))
),

unmatched as (
    select r.*
    from requests as r
    anti join by_model as m
        on r.request_source = m.request_source and r.request_id = m.request_id
),

places as (
    select distinct selector_kind, coalesce(host, selector_value) as place, deployment_id,
        valid_from, valid_to
    from claims
    where selector_kind in ('host_gpu', 'kubernetes')
),

by_place as (
    select u.request_source, u.request_id, min(p.deployment_id) as deployment_id,
        min(p.selector_kind) as selector_kind
    from unmatched as u
    inner join places as p
        on ((p.selector_kind = 'host_gpu' and p.place = u.host)
            or (p.selector_kind = 'kubernetes' and p.place = u.namespace))
        and u.arrival_ts >= cast(p.valid_from as timestamptz)
        and (p.valid_to is null or u.arrival_ts < cast(p.valid_to as timestamptz))
    group by u.request_source, u.request_id
    having count(distinct p.deployment_id) = 1
),

deployment_hosts as (
    select distinct deployment_id, place as host from places where selector_kind = 'host_gpu'
),

final as (
    select
        r.*,
        coalesce(m.deployment_id, p.deployment_id) as deployment_id,
        case
            when m.deployment_id is not null then 'model_name'
            when p.selector_kind = 'host_gpu' then 'host'
            when p.selector_kind = 'kubernetes' then 'namespace'
            else 'unmapped'
        end as mapped_by,
        m.deployment_id is not null
        and r.host is not null
        and m.deployment_id in (select deployment_id from deployment_hosts)
        and dh.host is null as host_mismatch
    from requests as r
    left join by_model as m
        on r.request_source = m.request_source and r.request_id = m.request_id
    left join by_place as p
        on r.request_source = p.request_source and r.request_id = p.request_id
    left join deployment_hosts as dh
        on m.deployment_id = dh.deployment_id and r.host = dh.host
)

select * from final
