-- Adds a batch's aggregates to the host rollup, one row per (day, computer, role): c0 day,
-- c1 computer (str.id), c2 role, c3 events, c4 first and c5 last seen (store/rows.c).
INSERT INTO host_daily (day, computer, role, events, first_seen, last_seen)
SELECT c0, c1, c2, c3, c4, c5 FROM ns_rows(?1) WHERE true
ON CONFLICT (day, computer, role)
DO UPDATE SET events = events + excluded.events,
              first_seen = min(first_seen, excluded.first_seen),
              last_seen = max(last_seen, excluded.last_seen);
