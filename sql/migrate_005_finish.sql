-- Schema version 5 migration, after the events were copied: the old table goes, the index
-- from a dependency to its events comes.
DROP TABLE events_v4;
CREATE INDEX events_dep ON events (dep, time_created);
