-- One row per customer: their orders up to the run's logical date (a var every xo-foundry dbt step passes).
select
    c.customer_id,
    c.name,
    c.country,
    count(o.order_id) as orders,
    coalesce(sum(o.amount), 0) as amount
from {{ ref('stg_customers') }} as c
left join {{ ref('stg_orders') }} as o
    on o.customer_id = c.customer_id
    and o.created_at < cast('{{ var("logical_date", "2999-01-01") }}' as date) + interval 1 day
group by 1, 2, 3
