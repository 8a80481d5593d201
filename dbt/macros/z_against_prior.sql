{#- The project's z-score: (value - mean) / sample standard deviation over a window of earlier rows only (the window
    excludes the current row, so no row is scored against itself or the future), NULL with fewer than `min_count`
    earlier values or no spread. `window` names a window clause of the model (e.g. prior_156). -#}
{% macro z_against_prior(column, window, min_count) -%}
    case
        when count({{ column }}) over {{ window }} >= {{ min_count }} and stddev_samp({{ column }}) over {{ window }} > 0
            then ({{ column }} - avg({{ column }}) over {{ window }}) / stddev_samp({{ column }}) over {{ window }}
    end
{%- endmacro %}
