-- View `burndown`: per day, the dependencies still active (seen in the 7 days up to that
-- day): the line that must reach zero before NTLM can be turned off. Every day from the
-- first to the last one with data in the range is listed, quiet days too. Ingest keeps the
-- counts in day_active (sql/migrate_008_burndown.sql), so this reads one row per day.
WITH RECURSIVE days(day) AS (
    SELECT MAX(:since, (SELECT MIN(day) FROM dep_daily))
    WHERE (SELECT MIN(day) FROM dep_daily) IS NOT NULL
    UNION ALL
    SELECT day + 1 FROM days
    WHERE day < MIN(:until, (SELECT MAX(day) FROM dep_daily))
)
SELECT days.day AS day,
       COALESCE(a.dependencies, 0) AS active_dependencies,
       COALESCE(a.ntlmv1_dependencies, 0) AS active_ntlmv1_dependencies
FROM days
LEFT JOIN day_active AS a ON a.day = days.day
ORDER BY days.day
LIMIT :limit;
