-- Adds a batch's aggregate for one reporting host and role to its running totals.
INSERT INTO host_total (computer, role, events, first_seen, last_seen)
VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (computer, role)
DO UPDATE SET events = events + excluded.events,
              first_seen = min(first_seen, excluded.first_seen),
              last_seen = max(last_seen, excluded.last_seen);
