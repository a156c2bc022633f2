-- Adds a batch's aggregates to the exception-list rollup, one row per (day, kind, name,
-- client, account, domain): c0 day, c1 .. c5 the texts, c6 events, c7 first and c8 last seen
-- (store/rows.c).
INSERT INTO exc_daily (day, kind, name, client, account, domain, events, first_seen, last_seen)
SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8 FROM ns_rows(?1) WHERE true
ON CONFLICT (day, kind, name, client, account, domain)
DO UPDATE SET events = events + excluded.events,
              first_seen = min(first_seen, excluded.first_seen),
              last_seen = max(last_seen, excluded.last_seen);
