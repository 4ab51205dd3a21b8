{{ config(materialized='table', tags=['daily']) }}
select s.id, c.code from {{ ref('ab_snapshot') }} as s cross join {{ ref('int_codes') }} as c
