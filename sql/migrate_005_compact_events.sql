-- Schema version 5: compact raw events. Repeated strings (computers, channels, accounts,
-- processes, targets...) are stored once in str and referenced by id; the fields that are
-- not part of the identity are packed into one blob (store/pack.c), read back in SQL with
-- ns_field(f, 'name'). Each event also records its dependency, so the events behind a
-- dependency row are found through an index.
-- The store then copies every version-4 event across (migrate_005_read_v4.sql) and runs
-- migrate_005_finish.sql.

ALTER TABLE events RENAME TO events_v4;
DROP INDEX events_identity;
DROP INDEX events_time;

-- Every distinct string of the raw events, once.
CREATE TABLE str (
    id INTEGER PRIMARY KEY,
    s TEXT NOT NULL UNIQUE
);

-- Every NTLM event, stored once per (time_created, computer, channel, record_id); ordered by
-- time, so events arriving in time order append and a time range is one scan.
CREATE TABLE events (
    time_created INTEGER NOT NULL,  -- microseconds since 1970 UTC
    computer INTEGER NOT NULL,      -- str.id
    channel INTEGER NOT NULL,       -- str.id
    record_id INTEGER NOT NULL,
    dep INTEGER NOT NULL,           -- dep.id: the dependency the event counts for
    f BLOB NOT NULL,                -- every other field and the agent, packed
    PRIMARY KEY (time_created, computer, channel, record_id)
) WITHOUT ROWID;
