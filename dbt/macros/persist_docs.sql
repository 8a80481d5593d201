{#
  Column descriptions become DuckDB comments (persist_docs), except on a view in a lake: DuckLake has no column
  comments on views. The publish step writes those columns' descriptions into the serving file from the manifest,
  so the serving file describes every column whichever backend built it.
#}
{% macro duckdb__alter_column_comment(relation, column_dict) %}
  {% if relation.type == 'view' and adapter.is_ducklake(relation) %}
    {{ return('') }}
  {% endif %}
  {% set existing_columns = adapter.get_columns_in_relation(relation) | map(attribute="name") | list %}
  {% for column_name in column_dict if (column_name in existing_columns) %}
    {% set comment = column_dict[column_name]['description'] %}
    {% set escaped_comment = duckdb_escape_comment(comment) %}
    comment on column {{ relation }}.{{ adapter.quote(column_name) if column_dict[column_name]['quote'] else column_name }} is {{ escaped_comment }};
  {% endfor %}
{% endmacro %}
