{#- Schemas are named exactly as configured (staging, intermediate, marts, reference_data): the warehouse contract.
    (DuckDB names the catalog after the file, so a warehouse file must not share a name with a schema.) -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
