select
    id as customer_id,
    name,
    email,
    country,
    cast(created_at as timestamp) as created_at
from {{ source('shop', 'customers') }}
