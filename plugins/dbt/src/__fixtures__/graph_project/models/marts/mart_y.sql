select * from {{ ref('mart_x') }}
