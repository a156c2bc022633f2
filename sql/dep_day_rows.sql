-- A day's rows of dep_daily, in dependency order, for its pack (store/range.c).
SELECT dep, events, ntlmv1_events, first_seen, last_seen
FROM dep_daily
WHERE day = ?1
ORDER BY dep;
