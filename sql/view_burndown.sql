-- View `burndown`: per day, the dependencies still active (seen in the 7 days up to that
-- day): the line that must reach zero before NTLM can be turned off.
WITH days AS (
    SELECT DISTINCT day FROM dep_daily WHERE day BETWEEN :since AND :until
)
SELECT days.day AS day,
       (SELECT COUNT(*)
        FROM (SELECT 1
              FROM dep_daily AS d
              WHERE d.day BETWEEN days.day - 6 AND days.day
              GROUP BY d.client, d.account, d.domain, d.process, d.target, d.target_service,
                       d.reason_id, d.ntlm_version)) AS active_dependencies,
       (SELECT COUNT(*)
        FROM (SELECT 1
              FROM dep_daily AS d
              WHERE d.day BETWEEN days.day - 6 AND days.day AND d.ntlmv1_events > 0
              GROUP BY d.client, d.account, d.domain, d.process, d.target, d.target_service,
                       d.reason_id, d.ntlm_version)) AS active_ntlmv1_dependencies
FROM days
ORDER BY day
LIMIT :limit;
