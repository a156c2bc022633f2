-- Adds a batch's counters for one dependency and day. Returns whether the row is new
-- (its events are exactly the batch's) and whether the day has just got its first NTLMv1 or
-- LM event: the burn-down counts both (store.c).
INSERT INTO dep_daily (day, dep, events, ntlmv1_events, warnings, blocked, first_seen, last_seen)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (day, dep)
DO UPDATE SET events = events + excluded.events,
              ntlmv1_events = ntlmv1_events + excluded.ntlmv1_events,
              warnings = warnings + excluded.warnings,
              blocked = blocked + excluded.blocked,
              first_seen = min(first_seen, excluded.first_seen),
              last_seen = max(last_seen, excluded.last_seen)
RETURNING events = ?3 AS new_day, ?4 > 0 AND ntlmv1_events = ?4 AS new_v1_day;
