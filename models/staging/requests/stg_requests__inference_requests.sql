{{ config(tags=['daily']) }}

{#- Typed request log rows, 1:1 with raw.inference_requests. A view tagged daily: it must not
    be built before the first daily load has created its source table. -#}

with source as (
    select * from {{ source('requests', 'inference_requests') }}
),

final as (
    select
        request_source,
        request_id,
        model_name,
        host,
        pod,
        server,
        namespace,
        arrival_ts,
        first_token_ts,
        finish_ts,
        ttft_ms,
        e2e_ms,
        input_tokens,
        output_tokens,
        cached_tokens,
        usage_missing,
        status,
        status = 'error' as is_error,
        user_hash,
        -- no tenant in the log (or a row from before the column): one explicit tenant
        coalesce(tenant, 'unattributed') as tenant,
        source_file_id,
        source_line
    from source
)

select * from final
