-- Schema version 12: each day's dependency counters packed into one blob, so a range of days
-- is summed from a few blobs instead of one row per dependency and day (store/range.c
-- describes the format). Ingest rewrites the packs of the days each batch touches; the
-- upgrade packs every stored day (ns_range_pack_all).
CREATE TABLE dep_day_pack (
    day INTEGER PRIMARY KEY,  -- days since 1970-01-01 (UTC)
    deps INTEGER NOT NULL,    -- entries in the pack
    pack BLOB NOT NULL
);
