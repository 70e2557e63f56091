{#- Types and functions that DuckDB and Spark SQL spell differently. Each is dispatched
    (adapter.dispatch): default__ is DuckDB's spelling, exactly what the models had before, so
    the DuckDB build is unchanged; spark__ is Spark SQL 4's. dbt's own cross-database macros
    (dbt.type_string, dbt.dateadd, ...) are not used where they would change DuckDB's SQL or
    its result types (dbt-duckdb's type_string is TEXT, its dateadd an interval expression). -#}

{% macro t_string() -%}{{ return(adapter.dispatch('t_string', 'unitcost')()) }}{%- endmacro %}
{% macro default__t_string() -%}varchar{%- endmacro %}
{% macro spark__t_string() -%}string{%- endmacro %}

{% macro t_string_array() -%}
    {{ return(adapter.dispatch('t_string_array', 'unitcost')()) }}
{%- endmacro %}
{% macro default__t_string_array() -%}varchar[]{%- endmacro %}
{% macro spark__t_string_array() -%}array<string>{%- endmacro %}

{#- An instant: DuckDB's TIMESTAMPTZ; Spark's TIMESTAMP is one (shown in the session zone). -#}
{% macro t_timestamptz() -%}
    {{ return(adapter.dispatch('t_timestamptz', 'unitcost')()) }}
{%- endmacro %}
{% macro default__t_timestamptz() -%}timestamptz{%- endmacro %}
{% macro spark__t_timestamptz() -%}timestamp{%- endmacro %}

{#- JSON text: DuckDB's JSON type; Spark keeps it as a string. -#}
{% macro t_json() -%}{{ return(adapter.dispatch('t_json', 'unitcost')()) }}{%- endmacro %}
{% macro default__t_json() -%}json{%- endmacro %}
{% macro spark__t_json() -%}string{%- endmacro %}

{#- Seconds (DOUBLE) from instant `start` to instant `end`. -#}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between', 'unitcost')(start, end)) }}
{%- endmacro %}
{% macro default__seconds_between(start, end) -%}epoch({{ end }} - {{ start }}){%- endmacro %}
{% macro spark__seconds_between(start, end) -%}
    (cast(unix_micros({{ end }}) - unix_micros({{ start }}) as double) / 1000000)
{%- endmacro %}

{#- Seconds (DOUBLE) since the Unix epoch. -#}
{% macro epoch_seconds(ts) -%}
    {{ return(adapter.dispatch('epoch_seconds', 'unitcost')(ts)) }}
{%- endmacro %}
{% macro default__epoch_seconds(ts) -%}epoch({{ ts }}){%- endmacro %}
{% macro spark__epoch_seconds(ts) -%}(cast(unix_micros({{ ts }}) as double) / 1000000){%- endmacro %}

{#- Microseconds (BIGINT) since the Unix epoch, and back to an instant. -#}
{% macro epoch_us(ts) -%}{{ return(adapter.dispatch('epoch_us', 'unitcost')(ts)) }}{%- endmacro %}
{% macro default__epoch_us(ts) -%}epoch_us({{ ts }}){%- endmacro %}
{% macro spark__epoch_us(ts) -%}unix_micros({{ ts }}){%- endmacro %}

{% macro timestamp_from_us(us) -%}
    {{ return(adapter.dispatch('timestamp_from_us', 'unitcost')(us)) }}
{%- endmacro %}
{% macro default__timestamp_from_us(us) -%}make_timestamptz({{ us }}){%- endmacro %}
{% macro spark__timestamp_from_us(us) -%}timestamp_micros({{ us }}){%- endmacro %}

{#- Integer division truncated toward zero, of integers (DuckDB `//`, Spark `div`). Spark's
    `div` returns BIGINT: the quotient must fit one (the dividend may be DECIMAL(38,0)). -#}
{% macro int_div(dividend, divisor) -%}
    {{ return(adapter.dispatch('int_div', 'unitcost')(dividend, divisor)) }}
{%- endmacro %}
{% macro default__int_div(dividend, divisor) -%}(({{ dividend }}) // ({{ divisor }})){%- endmacro %}
{% macro spark__int_div(dividend, divisor) -%}(({{ dividend }}) div ({{ divisor }})){%- endmacro %}

{#- A date as YYYY-MM-DD text. -#}
{% macro date_iso(day) -%}{{ return(adapter.dispatch('date_iso', 'unitcost')(day)) }}{%- endmacro %}
{% macro default__date_iso(day) -%}strftime({{ day }}, '%Y-%m-%d'){%- endmacro %}
{% macro spark__date_iso(day) -%}date_format({{ day }}, 'yyyy-MM-dd'){%- endmacro %}

{#- One row per value of the series start, start + step, ..., up to stop inclusive (none when
    start > stop): the select-list expression that unnests it. -#}
{% macro unnest_series(start, stop, step, cast_to=none) -%}
    {{ return(adapter.dispatch('unnest_series', 'unitcost')(start, stop, step, cast_to)) }}
{%- endmacro %}
{% macro default__unnest_series(start, stop, step, cast_to) -%}
    {%- if cast_to -%}
    cast(unnest(generate_series({{ start }}, {{ stop }}, {{ step }})) as {{ cast_to }})
    {%- else -%}
    unnest(generate_series({{ start }}, {{ stop }}, {{ step }}))
    {%- endif -%}
{%- endmacro %}
{#- Spark: a generator cannot sit inside an expression, so the cast is on the elements. -#}
{% macro spark__unnest_series(start, stop, step, cast_to) -%}
    explode(if(({{ start }}) <= ({{ stop }}),
        {%- if cast_to %} transform(sequence({{ start }}, {{ stop }}, {{ step }}), x -> cast(x as {{ cast_to }}))
        {%- else %} sequence({{ start }}, {{ stop }}, {{ step }}){% endif %}, null))
{%- endmacro %}

{#- The aggregate list of `value` in ascending order over the rows where `condition` holds;
    NULL when there are none (DuckDB's list() of no rows). -#}
{% macro sorted_list_agg(value, condition) -%}
    {{ return(adapter.dispatch('sorted_list_agg', 'unitcost')(value, condition)) }}
{%- endmacro %}
{% macro default__sorted_list_agg(value, condition) -%}
    list({{ value }} order by {{ value }})
            filter (where {{ condition }})
{%- endmacro %}
{% macro spark__sorted_list_agg(value, condition) -%}
    case when count(*) filter (where {{ condition }}) > 0 then
        array_sort(collect_list({{ value }}) filter (where {{ condition }})) end
{%- endmacro %}

{#- The instant after every other (an open end): DuckDB's 'infinity'; Spark has none, so its
    largest timestamp. -#}
{% macro ts_infinity() -%}{{ return(adapter.dispatch('ts_infinity', 'unitcost')()) }}{%- endmacro %}
{% macro default__ts_infinity() -%}cast('infinity' as timestamptz){%- endmacro %}
{% macro spark__ts_infinity() -%}timestamp'9999-12-31 23:59:59.999999'{%- endmacro %}

{#- An interval of `n` (an integer expression) minutes. -#}
{% macro minutes_interval(n) -%}
    {{ return(adapter.dispatch('minutes_interval', 'unitcost')(n)) }}
{%- endmacro %}
{% macro default__minutes_interval(n) -%}to_minutes(cast({{ n }} as bigint)){%- endmacro %}
{% macro spark__minutes_interval(n) -%}make_dt_interval(0, 0, cast({{ n }} as int)){%- endmacro %}

{#- The integers lo .. hi - 1, unnested (DuckDB's range). -#}
{% macro unnest_range(lo, hi) -%}
    {{ return(adapter.dispatch('unnest_range', 'unitcost')(lo, hi)) }}
{%- endmacro %}
{% macro default__unnest_range(lo, hi) -%}unnest(range({{ lo }}, {{ hi }})){%- endmacro %}
{% macro spark__unnest_range(lo, hi) -%}
    explode(if(({{ lo }}) < ({{ hi }}), sequence({{ lo }}, ({{ hi }}) - 1), null))
{%- endmacro %}

{#- A 64-bit hash of the values, for tie-breaking and fingerprints within one engine (each
    engine's own function: they differ, and no result may depend on the value itself). -#}
{% macro row_hash(values) -%}
    {{ return(adapter.dispatch('row_hash', 'unitcost')(values)) }}
{%- endmacro %}
{% macro default__row_hash(values) -%}hash({{ values | join(', ') }}){%- endmacro %}
{% macro spark__row_hash(values) -%}xxhash64({{ values | join(', ') }}){%- endmacro %}

{#- `materialized` on a CTE read more than once: DuckDB computes it once; Spark SQL has no
    such hint (its optimiser decides). -#}
{% macro cte_materialized() -%}{{ return(adapter.dispatch('cte_materialized', 'unitcost')()) }}{%- endmacro %}
{% macro default__cte_materialized() -%}materialized{%- endmacro %}
{% macro spark__cte_materialized() -%}{%- endmacro %}

{#- A row number in no particular order, as a key: DuckDB numbers rows as they come; Spark
    needs an order, so it gets `order_by` (any columns that make it deterministic). -#}
{% macro row_key(order_by) -%}
    {{ return(adapter.dispatch('row_key', 'unitcost')(order_by)) }}
{%- endmacro %}
{% macro default__row_key(order_by) -%}row_number() over (){%- endmacro %}
{% macro spark__row_key(order_by) -%}row_number() over (order by {{ order_by }}){%- endmacro %}

{#- The pico-unit share quotient: integer division of a pico amount × weight (DuckDB HUGEINT,
    Spark DECIMAL(38,0)) by a weight. Spark's `div` returns BIGINT and wraps around silently
    past 2^63 (even in ANSI mode), so a quotient that would not fit fails the query instead:
    on Spark one piece holds at most 9.2e18 pico-dollars ($9.2 million). -#}
{% macro pico_div(dividend, divisor) -%}
    {{ return(adapter.dispatch('pico_div', 'unitcost')(dividend, divisor)) }}
{%- endmacro %}
{% macro default__pico_div(dividend, divisor) -%}({{ dividend }}) // ({{ divisor }}){%- endmacro %}
{% macro spark__pico_div(dividend, divisor) -%}
    if(abs({{ dividend }}) >= cast({{ divisor }} as decimal(38, 0)) * 9223372036854775807,
        raise_error('unitcost: a pico-dollar share does not fit BIGINT on Spark'),
        ({{ dividend }}) div ({{ divisor }}))
{%- endmacro %}

{#- A DOUBLE quotient where the dividend may be an integer and the divisor a decimal literal
    (`x / 3600.0`): DuckDB divides in DOUBLE; Spark would keep a DECIMAL. -#}
{% macro as_double(x) -%}{{ return(adapter.dispatch('as_double', 'unitcost')(x)) }}{%- endmacro %}
{% macro default__as_double(x) -%}{{ x }}{%- endmacro %}
{% macro spark__as_double(x) -%}cast({{ x }} as double){%- endmacro %}

{#- `relation.*` without some columns. -#}
{% macro star_except(relation, columns) -%}
    {{ return(adapter.dispatch('star_except', 'unitcost')(relation, columns)) }}
{%- endmacro %}
{% macro default__star_except(relation, columns) -%}
    {{ relation ~ '.' if relation }}* exclude ({{ columns | join(', ') }})
{%- endmacro %}
{% macro spark__star_except(relation, columns) -%}
    {{ relation ~ '.' if relation }}* except ({{ columns | join(', ') }})
{%- endmacro %}

{#- (a, b) IN (SELECT a, b ...): DuckDB compares a row with a row value. -#}
{% macro pair_in(left, right, subquery_from, negate=false) -%}
    {{ return(adapter.dispatch('pair_in', 'unitcost')(left, right, subquery_from, negate)) }}
{%- endmacro %}
{% macro default__pair_in(left, right, subquery_from, negate) -%}
    ({{ left | join(', ') }}) {{ 'not ' if negate }}in (
            select ({{ right | join(', ') }})
            from {{ subquery_from }}
        )
{%- endmacro %}
{% macro spark__pair_in(left, right, subquery_from, negate) -%}
    ({{ left | join(', ') }}) {{ 'not ' if negate }}in (
            select {{ right | join(', ') }} from {{ subquery_from }})
{%- endmacro %}

{#- Whole milliseconds from `start` to `end` (boundaries crossed, as DuckDB's date_diff). -#}
{% macro diff_ms(start, end) -%}
    {{ return(adapter.dispatch('diff_ms', 'unitcost')(start, end)) }}
{%- endmacro %}
{% macro default__diff_ms(start, end) -%}
    date_diff(
            'millisecond',
            {{ start }},
            {{ end }}
        )
{%- endmacro %}
{% macro spark__diff_ms(start, end) -%}(unix_millis({{ end }}) - unix_millis({{ start }})){%- endmacro %}

{#- `value` matches the shell glob `pattern` (* and ?). Spark has no GLOB: LIKE with * → %,
    ? → _ after escaping LIKE's own wildcards. -#}
{% macro glob_match(value, pattern) -%}
    {{ return(adapter.dispatch('glob_match', 'unitcost')(value, pattern)) }}
{%- endmacro %}
{% macro default__glob_match(value, pattern) -%}{{ value }} glob {{ pattern }}{%- endmacro %}
{% macro spark__glob_match(value, pattern) -%}
    {{ value }} like replace(replace(replace(replace(replace({{ pattern }},
        '\\\\', '\\\\\\\\'), '%', '\\\\%'), '_', '\\\\_'), '*', '%'), '?', '_')
{%- endmacro %}

{#- A JSON object from alternating key / value expressions. -#}
{% macro json_object_of(pairs) -%}
    {{ return(adapter.dispatch('json_object_of', 'unitcost')(pairs)) }}
{%- endmacro %}
{% macro default__json_object_of(pairs) -%}json_object(
            {{ pairs | join(', ') }}
        ){%- endmacro %}
{% macro spark__json_object_of(pairs) -%}to_json(named_struct({{ pairs | join(', ') }})){%- endmacro %}

{#- Every row of `first` (those meeting `first_where`, if given) and of `second` but its
    columns `second_except`, matched by column name. -#}
{% macro union_all_by_name(first, second, second_except, first_where=none) -%}
    {{ return(adapter.dispatch('union_all_by_name', 'unitcost')(first, second, second_except, first_where)) }}
{%- endmacro %}
{% macro default__union_all_by_name(first, second, second_except, first_where=none) -%}
select * from {{ first }}{% if first_where %} where {{ first_where }}{% endif %}
union all by name
select {{ star_except('', second_except) }} from {{ second }}
{%- endmacro %}
{#- Spark: both sides list `first`'s columns (read from the built relations); a column
    `second` lacks is a NULL of `first`'s type there, as DuckDB's UNION BY NAME fills it. -#}
{% macro spark__union_all_by_name(first, second, second_except, first_where=none) -%}
    {%- set columns = adapter.get_columns_in_relation(first) if execute else [] -%}
    {%- set has = adapter.get_columns_in_relation(second) | map(attribute='name')
        | map('lower') | list if execute else [] -%}
    {%- set listed = columns | map(attribute='name') | join(', ') if columns else '*' -%}
select {{ listed }} from {{ first }}{% if first_where %} where {{ first_where }}{% endif %}
union all
select
{%- if columns %}
    {%- for c in columns %}
    {% if c.name | lower in has %}{{ c.name }}{% else %}cast(null as {{ c.data_type }}) as {{ c.name }}{% endif %}{{ "," if not loop.last }}
    {%- endfor %}
{%- else %} *{% endif %}
from {{ second }}
{%- endmacro %}

{#- The q-quantile of `value` interpolated linearly between the two nearest ranks (DuckDB
    quantile_cont, Spark percentile: the same definition). -#}
{% macro quantile_cont(value, q) -%}
    {{ return(adapter.dispatch('quantile_cont', 'unitcost')(value, q)) }}
{%- endmacro %}
{% macro default__quantile_cont(value, q) -%}quantile_cont({{ value }}, {{ q }}){%- endmacro %}
{% macro spark__quantile_cont(value, q) -%}percentile({{ value }}, {{ q }}){%- endmacro %}

{#- A wide integer for weights and pico-units: DuckDB's HUGEINT, Spark's DECIMAL(38,0). -#}
{% macro t_wide_int() -%}{{ return(adapter.dispatch('t_wide_int', 'unitcost')()) }}{%- endmacro %}
{% macro default__t_wide_int() -%}hugeint{%- endmacro %}
{% macro spark__t_wide_int() -%}decimal(38, 0){%- endmacro %}
