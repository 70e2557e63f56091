{#- Exact money arithmetic for allocation. DuckDB turns DECIMAL / DECIMAL into DOUBLE, so
    shares are taken in integer pico-units (10^-12, the scale of DECIMAL(38,12)) on HUGEINT
    and converted back. Allocation splits a line into ordered pieces and gives piece i
    share(cum_i) - share(cum_{i-1}) of the line: the pieces telescope to exactly the line's
    amount, so allocated + idle + unallocated = billed holds with zero tolerance. -#}

{% macro to_pico(amount) -%}
    cast(({{ amount }}) * 1000000000000 as hugeint)
{%- endmacro %}

{% macro from_pico(pico) -%}
    cast(cast({{ pico }} as decimal(38, 0)) * 0.000000000001 as decimal(38, 12))
{%- endmacro %}

{#- amount × numerator / denominator, truncated to 10^-12; numerator/denominator integers. -#}
{% macro exact_share(amount, numerator, denominator) -%}
    {{ from_pico('(' ~ to_pico(amount) ~ ' * (' ~ numerator ~ ')) // (' ~ denominator ~ ')') }}
{%- endmacro %}

{#- amount × 10^6 / tokens: a price per 1M tokens, DECIMAL(38,12); NULL without tokens. -#}
{% macro usd_per_1m(amount, tokens) -%}
    case when {{ tokens }} > 0 then
        {{ from_pico('(' ~ to_pico(amount) ~ ' * 1000000) // (' ~ tokens ~ ')') }}
    end
{%- endmacro %}

{#- Allocation rebuilds whole billing periods: exports are monthly snapshots that get restated,
    so the window is every period from the month before the partition window's first day to
    the month of its last day. The previous month is included because a closed period still
    changes for about two weeks (credits, refunds, support fees: RELIABILITY.md case 4). -#}
{% macro billing_window_start() -%}
    (date_trunc('month', {{ window_start() }}) - interval 1 month)::date
{%- endmacro %}

{% macro billing_window_end() -%}
    (date_trunc('month', {{ window_end() }} - interval 1 day) + interval 1 month)::date
{%- endmacro %}

{% macro in_billing_window(column) -%}
    ({{ column }} >= {{ billing_window_start() }} and {{ column }} < {{ billing_window_end() }})
{%- endmacro %}
