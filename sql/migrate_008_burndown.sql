-- Schema version 8: the burn-down kept as events arrive. day_active holds, for each day, the
-- dependencies active in the 7 days up to it (and those with NTLMv1 or LM events); ingest
-- adds to it the days a new (dependency, day) newly covers, so the burn-down view reads one
-- row per day. dep.last_v1_day is the last day of a dependency with NTLMv1 or LM events.
ALTER TABLE dep ADD COLUMN last_v1_day INTEGER;

UPDATE dep
SET last_v1_day = m.day
FROM (SELECT dep, MAX(day) AS day FROM dep_daily WHERE ntlmv1_events > 0 GROUP BY dep) AS m
WHERE m.dep = dep.id;

CREATE TABLE day_active (
    day INTEGER PRIMARY KEY,                -- days since 1970-01-01 (UTC)
    dependencies INTEGER NOT NULL,          -- seen in day - 6 .. day
    ntlmv1_dependencies INTEGER NOT NULL    -- of which with NTLMv1 or LM events then
);

-- what is stored already, counted once (each day after the first up to 6 past the last)
INSERT INTO day_active (day, dependencies, ntlmv1_dependencies)
WITH RECURSIVE days(day) AS (
    SELECT MIN(day) FROM dep_daily WHERE (SELECT MIN(day) FROM dep_daily) IS NOT NULL
    UNION ALL
    SELECT day + 1 FROM days WHERE day < (SELECT MAX(day) FROM dep_daily) + 6
)
SELECT days.day,
       (SELECT COUNT(DISTINCT d.dep) FROM dep_daily AS d
        WHERE d.day BETWEEN days.day - 6 AND days.day),
       (SELECT COUNT(DISTINCT d.dep) FROM dep_daily AS d
        WHERE d.day BETWEEN days.day - 6 AND days.day AND d.ntlmv1_events > 0)
FROM days;
