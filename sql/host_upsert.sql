-- Adds a batch's aggregate for one reporting host, role and day.
INSERT INTO host_daily (day, computer, role, events, first_seen, last_seen)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (day, computer, role)
DO UPDATE SET events = events + excluded.events,
              first_seen = min(first_seen, excluded.first_seen),
              last_seen = max(last_seen, excluded.last_seen);
