-- Schema version 9: the index from a dependency to its events goes by day first. Keyed by
-- dependency first, each event's entry landed at a random place (one page per dependency
-- written at every commit); by day first, a batch's entries land together in its day's part.
-- The events view with a dependency filter walks the days (sql/view_events_dep.sql). The
-- day is time_created / 86400000000, written the same way wherever the index is meant.
DROP INDEX IF EXISTS events_dep;
CREATE INDEX events_day_dep ON events (time_created / 86400000000, dep, time_created);
