{#- Rows whose combination of `columns` is not unique (dbt_utils' test, without the package:
    dbt deps would download from outside the package registries). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
