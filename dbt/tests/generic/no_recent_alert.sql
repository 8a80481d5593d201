{#- An active alert: `rule` fired on data that became public in the `days` up to the build's as-of date (the
    `as_of` var the Dagster build passes; today without it). Used with severity warn, so the UI shows the alert on
    mart_stress_alerts without blocking anything. -#}
{% test no_recent_alert(model, rule, days=7) %}
{%- set as_of = "cast('" ~ var('as_of') ~ "' as date)" if var('as_of', none) else 'current_date' %}
select *
from {{ model }}
where
    rule = '{{ rule }}'
    and cast(public_at_et as date) between {{ as_of }} - {{ days - 1 }} and {{ as_of }}
{% endtest %}
