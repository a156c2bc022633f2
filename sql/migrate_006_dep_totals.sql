-- Schema version 6: each dependency carries its running totals over every day stored, so a
-- view whose range holds every day reads one row per dependency instead of summing its
-- days (sql/dep_range_part.sql).
ALTER TABLE dep ADD COLUMN events INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dep ADD COLUMN ntlmv1_events INTEGER NOT NULL DEFAULT 0;
ALTER TABLE dep ADD COLUMN first_seen INTEGER;  -- microseconds since 1970 UTC
ALTER TABLE dep ADD COLUMN last_seen INTEGER;
ALTER TABLE dep ADD COLUMN last_day INTEGER;    -- day number of last_seen

UPDATE dep
SET (events, ntlmv1_events, first_seen, last_seen, last_day) =
    (SELECT SUM(d.events), SUM(d.ntlmv1_events), MIN(d.first_seen), MAX(d.last_seen),
            MAX(d.day)
     FROM dep_daily AS d
     WHERE d.dep = dep.id)
WHERE EXISTS (SELECT 1 FROM dep_daily AS d WHERE d.dep = dep.id);
