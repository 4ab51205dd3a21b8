select
    id as order_id,
    customer_id,
    status,
    amount,
    currency,
    items,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from {{ source('shop', 'orders') }}
