{#- On-prem hosts bill one host-day in several lines (int_onprem__line_items): amortisation
    carries the host's GPU time; energy and overhead are further costs of the same GPU-hours,
    like a Savings Plan negation line, so allocation gives them cost and no GPU time. -#}
{% macro onprem_cost_only_line_types() -%}
    ('OnPremEnergy', 'OnPremEnergyUnmetered', 'OnPremOverhead')
{%- endmacro %}

{#- The instance type of an on-prem host's lines: its GPU and count, which
    stg_billing__instance_types maps to GPUs like a cloud instance type. -#}
{% macro onprem_instance_type(gpu_type, gpu_count) -%}
    lower('onprem-' || {{ gpu_type }} || '-x' || cast({{ gpu_count }} as {{ t_string() }}))
{%- endmacro %}
