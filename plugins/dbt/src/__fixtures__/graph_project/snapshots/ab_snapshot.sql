{% snapshot ab_snapshot %}
{{ config(target_schema='main', unique_key='id', strategy='check', check_cols='all') }}
select * from {{ ref('int_ab') }}
{% endsnapshot %}
