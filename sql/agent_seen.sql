-- Records a batch delivered by an agent.
INSERT INTO agent (name, first_seen, last_seen, last_address, batches, events, duplicates)
VALUES (?1, ?2, ?2, ?3, 1, ?4, ?5)
ON CONFLICT (name) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen),
                                 last_address = excluded.last_address,
                                 batches = batches + 1,
                                 events = events + excluded.events,
                                 duplicates = duplicates + excluded.duplicates;
