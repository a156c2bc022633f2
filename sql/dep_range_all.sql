-- Follows sql/dep_range_x.sql: x is every dependency xf keeps.
,
x AS NOT MATERIALIZED (
    SELECT * FROM xf
)
