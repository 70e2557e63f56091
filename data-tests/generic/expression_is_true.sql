{#- Rows for which `expression` is not true (dbt_utils' test, without the package). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not coalesce({{ expression }}, false)
{% endtest %}
