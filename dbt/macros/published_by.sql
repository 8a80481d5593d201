{#- Point in time: keep only what was published by the build's as-of date. The cut-offs come from the
    sources' release calendars (each `ingestion/<source>/releases.py`, gathered by `ingestion.registry.point_in_time_cutoffs`), passed as vars by the Dagster build:
    `as_of` (auctions, the curve, the auction calendar by record date), `cftc_released_through` (the latest TFF
    report released), `tic_released_through` (the latest TIC month released). Without the var, no filter. -#}
{% macro published_by(column, cutoff='as_of') -%}
    {%- if var(cutoff, none) %}
    where {{ column }} <= cast('{{ var(cutoff) }}' as date)
    {%- endif %}
{%- endmacro %}
