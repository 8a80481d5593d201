{#- Incremental marts: a build recomputes only the rows a new load can change, and the rest of the table stays.

    The window is every row dated on or after (the input's latest date - `lookback_days`), where `lookback_days` is
    at least what the source's loader re-reads each run (its look-back: a revision can land anywhere in it). An
    incremental run
      1. deletes the mart's rows in the window (and any beyond the input's latest date: a build as of an earlier
         day), in a pre-hook: `delete_incremental_window`;
      2. reads the input's rows in the window, plus, per partition, the `history_rows` rows just before it that the
         model's window functions look back over (`incremental_input`: a rows-based frame of N preceding rows
         needs N; a lag of a lag one more);
      3. writes back only the window's rows (`incremental_window_filter`), appended.
    A full rebuild (`--full-refresh`: the first build, or a changed dbt project) computes every row; the test
    tests/transform/test_incremental_marts.py proves both give the same table, row for row. -#}

{% macro incremental_run() -%}
    {#- A unit test compiles the model with no relation of its own (`this` is none): it tests the full computation. -#}
    {{- return(this is not none and is_incremental()) -}}
{%- endmacro %}

{% macro incremental_window_start(relation, date_column, lookback_days) -%}
    (select max({{ date_column }}) - interval '{{ lookback_days }} days' from {{ relation }})
{%- endmacro %}

{% macro delete_incremental_window(relation, date_column, lookback_days, output_column=none) -%}
    {%- if incremental_run() -%}
        delete from {{ this }}
        where {{ output_column or date_column }} >= {{ incremental_window_start(relation, date_column, lookback_days) }}
    {%- endif -%}
{%- endmacro %}

{% macro incremental_input(relation, date_column, lookback_days, history_rows, partition_by=[]) -%}
    {%- if incremental_run() -%}
        (
            select * from {{ relation }}
            where {{ date_column }} >= {{ incremental_window_start(relation, date_column, lookback_days) }}
            union all
            (
                select * from {{ relation }}
                where {{ date_column }} < {{ incremental_window_start(relation, date_column, lookback_days) }}
                qualify row_number() over (
                    {% if partition_by %}partition by {{ partition_by | join(', ') }}{% endif %}
                    order by {{ date_column }} desc
                ) <= {{ history_rows }}
            )
        )
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{% macro incremental_window_filter(relation, date_column, lookback_days, output_column=none) -%}
    {%- if incremental_run() %}
        where {{ output_column or date_column }} >= {{ incremental_window_start(relation, date_column, lookback_days) }}
    {%- endif -%}
{%- endmacro %}
