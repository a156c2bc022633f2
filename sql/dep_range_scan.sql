-- The rows of dep_daily in a range of days (?1 .. ?2), in key order, for ns_dep_range
-- (store/range.c), which sums them per dependency.
SELECT day, dep, events, ntlmv1_events, first_seen, last_seen
FROM dep_daily
WHERE day BETWEEN ?1 AND ?2;
