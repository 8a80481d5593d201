{#- Years in a FiscalData term label: "10-Year" -> 10, "13-Week" -> 0.25, "42-Day" -> 42/364,
    "9-Year 10-Month" -> 9.83 (reopenings state the remaining term). -#}
{% macro term_years(label) -%}
    (
        coalesce(try_cast(regexp_extract({{ label }}, '(\d+)-Year', 1) as double), 0)
        + coalesce(try_cast(regexp_extract({{ label }}, '(\d+)-Month', 1) as double), 0) / 12.0
        + coalesce(try_cast(regexp_extract({{ label }}, '(\d+)-Week', 1) as double), 0) / 52.0
        + coalesce(try_cast(regexp_extract({{ label }}, '(\d+)-Day', 1) as double), 0) / 364.0
    )
{%- endmacro %}
