select code from {{ ref('codes') }}
