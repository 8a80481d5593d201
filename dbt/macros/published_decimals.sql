{#- Published values without binary float noise: each mart ends with `{{ select_published('cte') }}`, which keeps
    every column (in order) and casts the documented columns measured in bp, %, $ or $bn, or in 10-year
    equivalents, and bid-to-cover ratios, to DECIMAL at the precision below. The unit is the last unit word in the column's name
    (`tail_proxy_prior_close_bp_vs_prior_6_avg` is in bp); z-scores, the composite score, indices and year fractions stay DOUBLE. A change of
    two par yields published to 0.01% is exact in bp to 0.01, so nothing real is lost; README "Units and precision"
    lists the convention and tests/dagster_project/test_bi_clients.py checks that no unit column is left DOUBLE. -#}
{% macro published_decimals(column_name) -%}
    {%- set name = column_name | lower -%}
    {%- if '_z_' in name or name.endswith('_z') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set scale = namespace(value=none, at=-1) -%}
    {#- (unit word, decimal places): the word that ends last in the name sets the unit. -#}
    {%- set units = [
        ('_bp', 2), ('_pct', 3), ('_usd_bn', 3), ('_usd', 2), ('_10y_equivalents', 1), ('_bid_to_cover', 4)
    ] -%}
    {%- for unit, places in units -%}
        {%- set found = ('_' ~ name ~ '_').rfind(unit ~ '_') -%}
        {%- if found >= 0 and found + (unit | length) > scale.at -%}
            {%- set scale.value = places -%}
            {%- set scale.at = found + (unit | length) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(scale.value) }}
{%- endmacro %}

{% macro select_published(relation) -%}
    {%- set casts = [] -%}
    {#- A unit test compiles the model under its own node, which has no documented columns (and no graph to find the
        model's): unit tests check the formulas at full precision, tests/dagster_project/test_bi_clients.py checks the
        published types of the built marts. -#}
    {%- set documented = model.columns if model.resource_type != 'unit_test' else {} -%}
    {%- for column_name in documented -%}
        {%- set places = published_decimals(column_name) -%}
        {%- if places is not none -%}
            {%- do casts.append('cast(' ~ column_name ~ ' as decimal(18, ' ~ places ~ ')) as ' ~ column_name) -%}
        {%- endif -%}
    {%- endfor -%}
    select *{% if casts %} replace (
        {{ casts | join(',\n        ') }}
    ){% endif %}
    from {{ relation }}
{%- endmacro %}
