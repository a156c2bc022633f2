-- Stores one event: its identity, its dependency and its other fields packed (store/pack.c);
-- a second copy of the same event is ignored (changes() = 0).
INSERT INTO events (time_created, computer, channel, record_id, dep, f)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT DO NOTHING;
