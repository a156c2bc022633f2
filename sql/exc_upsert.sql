-- Adds a batch's aggregates to the exception-list rollup, one row per (day, kind, name,
-- client, account), every key a str.id (sql/migrate_014_rollup_ids.sql): c0 day, c1 kind, c2
-- the name folded, c3 the client folded (0: none), c4 account and domain folded (0: none), c5
-- events, c6 first and c7 last seen, c8 the name as written (store/rows.c). A row keeps the
-- spelling it was first stored with.
INSERT INTO exc_daily (day, kind, name, client, account, events, first_seen, last_seen,
                       spelled)
SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8 FROM ns_rows(?1) WHERE true
ON CONFLICT (day, kind, name, client, account)
DO UPDATE SET events = events + excluded.events,
              first_seen = min(first_seen, excluded.first_seen),
              last_seen = max(last_seen, excluded.last_seen);
