-- Stores a batch's counters for a dependency on a day it was never seen before (the
-- dependency's last day, which ingest keeps, is earlier): no conflict to look for.
INSERT INTO dep_daily (day, dep, events, ntlmv1_events, warnings, blocked, first_seen, last_seen)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);
