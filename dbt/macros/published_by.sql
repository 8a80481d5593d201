{#- Point in time: keep only what was published by the build's point in time. `column` is the row's publication
    day (an expression); `cutoff` the dbt var holding the last publication day the build may use. The vars come
    from the sources' release calendars (each `ingestion/<source>/releases.py`: its publication time of day and its
    own cut-offs, gathered by `ingestion.registry.point_in_time_cutoffs`), passed by the Dagster build:
    `<source>_published_through` (the build's day once the source's publication time has passed, else the day
    before), `cftc_released_through` (the latest TFF report released), `tic_released_through` (the latest TIC month
    released), `mspd_released_through`, `soma_released_through`, `repo_operations_published_through`. Without the
    var (dbt run by hand), no filter. -#}
{% macro published_by(column, cutoff) -%}
    {%- if var(cutoff, none) %}
    where {{ column }} <= cast('{{ var(cutoff) }}' as date)
    {%- endif %}
{%- endmacro %}
