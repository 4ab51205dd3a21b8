select 1 as id, 'b' as label
