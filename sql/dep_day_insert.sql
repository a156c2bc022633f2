-- Stores a batch's counters for dependencies on days they were never seen before (each
-- dependency's last day, which ingest keeps, is earlier): no conflict to look for. One row
-- per (day, dependency): c0 day, c1 dep, c2 events, c3 NTLMv1 events, c4 warnings, c5 blocked,
-- c6 first and c7 last seen (store/rows.c).
INSERT INTO dep_daily (day, dep, events, ntlmv1_events, warnings, blocked, first_seen, last_seen)
SELECT c0, c1, c2, c3, c4, c5, c6, c7 FROM ns_rows(?1);
