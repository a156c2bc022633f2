-- Adds a batch's counters to dependencies' running totals, one row per dependency: c0 dep,
-- c1 events, c2 NTLMv1 events, c3 first and c4 last seen, c5 the batch's last day of it, c6
-- its last day with NTLMv1 or LM events (NULL: none), c7 and c8 its latest addresses
-- (attributes: '' keeps the stored one) (store/rows.c). Every dependency exists: the upsert
-- always updates (SQLite's UPDATE ... FROM would first copy the rows into a temporary table).
INSERT INTO dep (id, events, ntlmv1_events, first_seen, last_seen, last_day, last_v1_day,
                 client_ip, target_ip)
SELECT c0, c1, c2, c3, c4, c5, c6, c7, c8 FROM ns_rows(?1) WHERE true
ON CONFLICT (id)
DO UPDATE SET events = events + excluded.events,
              ntlmv1_events = ntlmv1_events + excluded.ntlmv1_events,
              first_seen = min(COALESCE(first_seen, excluded.first_seen), excluded.first_seen),
              last_seen = max(COALESCE(last_seen, excluded.last_seen), excluded.last_seen),
              last_day = max(COALESCE(last_day, excluded.last_day), excluded.last_day),
              last_v1_day = CASE WHEN excluded.last_v1_day IS NOT NULL
                                 THEN max(COALESCE(last_v1_day, excluded.last_v1_day),
                                          excluded.last_v1_day)
                                 ELSE last_v1_day END,
              client_ip = CASE WHEN excluded.client_ip <> '' THEN excluded.client_ip
                               ELSE client_ip END,
              target_ip = CASE WHEN excluded.target_ip <> '' THEN excluded.target_ip
                               ELSE target_ip END;
