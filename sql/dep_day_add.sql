-- Adds a batch's counters to a dependency's row of a day already stored (the dependency's
-- last day).
UPDATE dep_daily
SET events = events + ?3,
    ntlmv1_events = ntlmv1_events + ?4,
    warnings = warnings + ?5,
    blocked = blocked + ?6,
    first_seen = min(first_seen, ?7),
    last_seen = max(last_seen, ?8)
WHERE day = ?1 AND dep = ?2;
