-- Schema version 12: each day's dependency counters packed into blobs, so a range of days
-- is summed from a few blobs instead of one row per dependency and day (store/range.c
-- describes the format). Part 0 of a day is its rows of dep_daily packed whole; each commit
-- that adds to the day since appends a part with just its own additions (sums, earliest and
-- latest times: they add up), and a day with many parts is packed whole again. The upgrade
-- packs every stored day (ns_range_pack_all).
CREATE TABLE dep_day_pack (
    day INTEGER NOT NULL,     -- days since 1970-01-01 (UTC)
    part INTEGER NOT NULL,    -- 0: the day packed whole; 1, 2, ...: a commit's additions since
    deps INTEGER NOT NULL,    -- entries in the pack
    pack BLOB NOT NULL,
    PRIMARY KEY (day, part)
);
