-- Adds a batch's aggregate for one exception-list row and day.
INSERT INTO exc_daily (day, kind, name, client, account, domain, events, first_seen, last_seen)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT (day, kind, name, client, account, domain)
DO UPDATE SET events = events + excluded.events,
              first_seen = min(first_seen, excluded.first_seen),
              last_seen = max(last_seen, excluded.last_seen);
