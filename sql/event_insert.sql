-- Stores a slice of events (store/rows.c): c0 time, c1 computer, c2 channel (str.id), c3
-- record id, c4 dependency, c5 every other field packed (store/pack.c). A copy of an event
-- already stored is not written again: its conflict marks it a duplicate (ns_rows_dup
-- answers 0, so nothing is updated).
INSERT INTO events (time_created, computer, channel, record_id, dep, f)
SELECT c0, c1, c2, c3, c4, c5 FROM ns_rows(?1) WHERE true
ON CONFLICT (time_created, computer, channel, record_id)
DO UPDATE SET dep = excluded.dep WHERE ns_rows_dup(?1);
