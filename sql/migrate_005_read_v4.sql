-- Schema version 5 migration: the version-4 events to copy, in the order they arrived.
SELECT * FROM events_v4 ORDER BY id;
