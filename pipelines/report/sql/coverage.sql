-- What the week [$first_day, $last_day] rests on, one row: days with cost, GPU-hours and
-- those without telemetry (allocated whole, their busy share unknown), currencies, and the
-- date of the recommendations shown.
with week as (
    select *
    from marts.fct_cost_allocation_daily
    where usage_date between $first_day and $last_day
)

select
    (select count(distinct usage_date) from week) as days_with_cost,
    (select round(coalesce(sum(gpu_hours), 0), 6) from week) as gpu_hours,
    (select round(coalesce(sum(unobserved_gpu_hours), 0), 6) from week) as unobserved_gpu_hours,
    (
        select coalesce(string_agg(distinct billing_currency, ', ' order by billing_currency), '')
        from week
    ) as currencies,
    (
        select max(as_of_date) from marts.fct_recommendations
        where as_of_date <= $last_day
    ) as recommendations_as_of
