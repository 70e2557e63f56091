{#- Exact money arithmetic for allocation. DuckDB turns DECIMAL / DECIMAL into DOUBLE, so
    shares are taken in integer pico-units (10^-12, the scale of DECIMAL(38,12)) on HUGEINT
    and converted back. Allocation splits a line into ordered pieces and gives piece i
    share(cum_i) - share(cum_{i-1}) of the line: the pieces telescope to exactly the line's
    amount, so allocated + idle + unallocated = billed holds with zero tolerance. -#}

{#- On Spark (no HUGEINT) pico-units are DECIMAL(38,0) and the quotient of a share a BIGINT
    (macros/cross_engine/types.sql, pico_div): at most 9.2e18 pico-dollars, $9.2M a piece. -#}
{% macro to_pico(amount) -%}
    {{ return(adapter.dispatch('to_pico', 'unitcost')(amount)) }}
{%- endmacro %}

{% macro default__to_pico(amount) -%}
    cast(({{ amount }}) * 1000000000000 as hugeint)
{%- endmacro %}

{% macro spark__to_pico(amount) -%}
    cast(({{ amount }}) * 1000000000000 as decimal(38, 0))
{%- endmacro %}

{% macro from_pico(pico) -%}
    cast(cast({{ pico }} as decimal(38, 0)) * 0.000000000001 as decimal(38, 12))
{%- endmacro %}

{#- amount × numerator / denominator, truncated to 10^-12; numerator/denominator integers. -#}
{% macro exact_share(amount, numerator, denominator) -%}
    {{ from_pico(pico_div(to_pico(amount) ~ ' * (' ~ numerator ~ ')', denominator)) }}
{%- endmacro %}

{#- amount × 10^6 / tokens: a price per 1M tokens, DECIMAL(38,12); NULL without tokens. -#}
{% macro usd_per_1m(amount, tokens) -%}
    case when {{ tokens }} > 0 then
        {{ from_pico(pico_div(to_pico(amount) ~ ' * 1000000', tokens)) }}
    end
{%- endmacro %}

{#- Allocation rebuilds whole billing periods: exports are monthly snapshots that get restated,
    so the window is every period from the month before the partition window's first day to
    the month of its last day. The previous month is included because a closed period still
    changes for about two weeks (credits, refunds, support fees: RELIABILITY.md case 4). -#}
{% macro billing_window_start() -%}
    {{ return(adapter.dispatch('billing_window_start', 'unitcost')()) }}
{%- endmacro %}

{% macro default__billing_window_start() -%}
    (date_trunc('month', {{ window_start() }}) - interval 1 month)::date
{%- endmacro %}

{% macro spark__billing_window_start() -%}
    cast(date_trunc('month', {{ window_start() }}) - interval 1 month as date)
{%- endmacro %}

{% macro billing_window_end() -%}
    {{ return(adapter.dispatch('billing_window_end', 'unitcost')()) }}
{%- endmacro %}

{% macro default__billing_window_end() -%}
    (date_trunc('month', {{ window_end() }} - interval 1 day) + interval 1 month)::date
{%- endmacro %}

{% macro spark__billing_window_end() -%}
    cast(date_trunc('month', {{ window_end() }} - interval 1 day) + interval 1 month as date)
{%- endmacro %}

{% macro in_billing_window(column) -%}
    ({{ column }} >= {{ billing_window_start() }} and {{ column }} < {{ billing_window_end() }})
{%- endmacro %}

{#- Day-incremental allocation inside the billing window. A billing period is re-delivered
    whole (AWS refreshes the month's export several times a day, restatements rewrite closed
    months), but most of its days come back unchanged. Each UTC day of the window gets a
    fingerprint of the lines that touch it: the sum of a hash of every line's content (what
    the pieces are made of: account, period, currency, category, type, resource, instance,
    charge period, costs, commitment; not the delivery, file or line number, which change
    with every delivery). Period-level lines (fees, credits, tax) touch the period's first
    day, as their pieces do. -#}
{% macro billing_day_fingerprints() -%}
    {{ return(adapter.dispatch('billing_day_fingerprints', 'unitcost')()) }}
{%- endmacro %}

{% macro default__billing_day_fingerprints() -%}
    select billing_period, usage_date, sum(line_hash) as billing_fingerprint
    from (
        select
            billing_period,
            hash(
                billing_source, billing_account_id, billing_period, billing_currency,
                charge_category, line_item_type, resource_id, instance_type,
                charge_period_start, charge_period_end, billed_cost, effective_cost,
                commitment_discount_id
            )::hugeint as line_hash,
            case
                when charge_period_end <= charge_period_start or charge_period_start is null
                    or charge_category <> 'Usage' then [billing_period]
                else generate_series(
                    cast(date_trunc('day', charge_period_start) as date),
                    cast(charge_period_end - interval 1 microsecond as date),
                    interval 1 day
                )::date[]
            end as days
        from {{ ref('int_billing__line_items') }}
        where {{ in_billing_window('billing_period') }}
    ),
    unnest(days) as d(usage_date)
    group by billing_period, usage_date
{%- endmacro %}

{#- Spark: the same days, its own 64-bit hash (xxhash64) summed in DECIMAL(38,0); a
    fingerprint is only ever compared with one from the same engine. -#}
{% macro spark__billing_day_fingerprints() -%}
    select billing_period, usage_date, sum(line_hash) as billing_fingerprint
    from (
        select
            billing_period,
            line_hash,
            explode(days) as usage_date
        from (
            select
                billing_period,
                cast({{ row_hash([
                    'billing_source', 'billing_account_id', 'billing_period', 'billing_currency',
                    'charge_category', 'line_item_type', 'resource_id', 'instance_type',
                    'charge_period_start', 'charge_period_end', 'billed_cost', 'effective_cost',
                    'commitment_discount_id']) }} as decimal(38, 0)) as line_hash,
                case
                    when charge_period_end <= charge_period_start or charge_period_start is null
                        or charge_category <> 'Usage' then array(billing_period)
                    else sequence(
                        cast(date_trunc('day', charge_period_start) as date),
                        cast(charge_period_end - interval 1 microsecond as date),
                        interval 1 day
                    )
                end as days
            from {{ ref('int_billing__line_items') }}
            where {{ in_billing_window('billing_period') }}
        )
    )
    group by billing_period, usage_date
{%- endmacro %}

{#- The fingerprint of each day a billing-derived model reads: the lines' own
    (`billing_days_from`: int_billing__line_items), or those an upstream billing-derived model
    stored beside its rows of the day (all of a day's rows come from one build). -#}
{% macro billing_fingerprints_of(model_name) -%}
    {%- if model_name == 'int_billing__line_items' -%}
        {{ billing_day_fingerprints() }}
    {%- else -%}
        select billing_period, usage_date, any_value(billing_fingerprint) as billing_fingerprint
        from {{ ref(model_name) }}
        where {{ in_billing_window('billing_period') }}
        group by billing_period, usage_date
    {%- endif -%}
{%- endmacro %}

{#- The days of the billing window a billing-derived model rebuilds: every day of the
    partition window, and every other day whose fingerprint differs from the one its rows in
    `relation` were built from (or that it has no rows for yet). A first build takes them
    all. Each model compares with its own rows, so a run killed between two models leaves
    the later one behind, and the next run catches it up. -#}
{% macro billing_days_to_rebuild(relation, model_name) -%}
    select f.billing_period, f.usage_date, f.billing_fingerprint
    from ({{ billing_fingerprints_of(model_name) }}) as f
    {%- if is_incremental() %}
    where {{ in_window('f.usage_date') }}
        or not exists (
            select 1 from {{ relation }} as built
            where built.billing_period = f.billing_period
                and built.usage_date = f.usage_date
                and built.billing_fingerprint = f.billing_fingerprint
        )
    {%- endif %}
{%- endmacro %}

{#- The rows replace_window deletes for a model with meta billing_days_from: those of the
    days it rebuilds, and of days nothing upstream holds any more (a restatement removed
    them). -#}
{% macro in_billing_days_to_rebuild(relation, model_name) -%}
    ({{ in_billing_window('billing_period') }} and (
        {{ pair_in(['billing_period', 'usage_date'], ['billing_period', 'usage_date'],
            '(' ~ billing_days_to_rebuild(relation, model_name) ~ ')') }}
        or {{ pair_in(['billing_period', 'usage_date'], ['billing_period', 'usage_date'],
            '(' ~ billing_fingerprints_of(model_name) ~ ')', negate=true) }}
    ))
{%- endmacro %}
