select a.id, a.label as a_label, b.label as b_label from {{ ref('stg_a') }} as a join {{ ref('stg_b') }} as b using (id)
