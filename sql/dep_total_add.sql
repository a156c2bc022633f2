-- Adds a batch's counters of one dependency and day to the dependency's running totals.
UPDATE dep
SET events = events + ?2,
    ntlmv1_events = ntlmv1_events + ?3,
    first_seen = min(COALESCE(first_seen, ?4), ?4),
    last_seen = max(COALESCE(last_seen, ?5), ?5),
    last_day = max(COALESCE(last_day, ?6), ?6)
WHERE id = ?1;
