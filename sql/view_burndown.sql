-- View `burndown`: per day, the dependencies still active (seen in the 7 days up to that
-- day): the line that must reach zero before NTLM can be turned off. Every day from the
-- first to the last one with data in the range is listed, quiet days too.
WITH RECURSIVE days(day) AS (
    SELECT MAX(:since, (SELECT MIN(day) FROM dep_daily))
    WHERE (SELECT MIN(day) FROM dep_daily) IS NOT NULL
    UNION ALL
    SELECT day + 1 FROM days
    WHERE day < MIN(:until, (SELECT MAX(day) FROM dep_daily))
)
SELECT days.day AS day,
       (SELECT COUNT(DISTINCT d.dep) FROM dep_daily AS d
        WHERE d.day BETWEEN days.day - 6 AND days.day) AS active_dependencies,
       (SELECT COUNT(DISTINCT d.dep) FROM dep_daily AS d
        WHERE d.day BETWEEN days.day - 6 AND days.day AND d.ntlmv1_events > 0)
           AS active_ntlmv1_dependencies
FROM days
ORDER BY day
LIMIT :limit;
