-- Adds a batch's counters to dependencies' rows of days already stored (each one's last
-- day), the columns of dep_day_insert.sql. (An upsert: SQLite's UPDATE ... FROM would first
-- copy the rows into a temporary table.)
INSERT INTO dep_daily (day, dep, events, ntlmv1_events, warnings, blocked, first_seen, last_seen)
SELECT c0, c1, c2, c3, c4, c5, c6, c7 FROM ns_rows(?1) WHERE true
ON CONFLICT (day, dep)
DO UPDATE SET events = events + excluded.events,
              ntlmv1_events = ntlmv1_events + excluded.ntlmv1_events,
              warnings = warnings + excluded.warnings,
              blocked = blocked + excluded.blocked,
              first_seen = min(first_seen, excluded.first_seen),
              last_seen = max(last_seen, excluded.last_seen);
