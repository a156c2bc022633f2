-- Adds a batch's counters of one dependency and day to the day's totals.
INSERT INTO day_total (day, events, ntlmv1_events, warnings, blocked)
VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (day)
DO UPDATE SET events = events + excluded.events,
              ntlmv1_events = ntlmv1_events + excluded.ntlmv1_events,
              warnings = warnings + excluded.warnings,
              blocked = blocked + excluded.blocked;
