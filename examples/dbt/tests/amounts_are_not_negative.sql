-- A singular test: rows returned are failures.
select * from {{ ref('stg_orders') }} where amount < 0
