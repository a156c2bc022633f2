-- Adds a batch's counters of one dependency and day to the dependency's running totals,
-- and its latest addresses (attributes: '' keeps the stored one).
UPDATE dep
SET events = events + ?2,
    ntlmv1_events = ntlmv1_events + ?3,
    first_seen = min(COALESCE(first_seen, ?4), ?4),
    last_seen = max(COALESCE(last_seen, ?5), ?5),
    last_day = max(COALESCE(last_day, ?6), ?6),
    last_v1_day = CASE WHEN ?3 > 0 THEN max(COALESCE(last_v1_day, ?6), ?6)
                       ELSE last_v1_day END,
    client_ip = CASE WHEN ?7 <> '' THEN ?7 ELSE client_ip END,
    target_ip = CASE WHEN ?8 <> '' THEN ?8 ELSE target_ip END
WHERE id = ?1;
