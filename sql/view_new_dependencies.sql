-- View `new_dependencies`: dependencies first seen in the range (never before :since), with
-- their events in the range. For the weekly summary: "new this week".
WITH k AS (
    SELECT dep,
           MIN(day) AS first_day,
           SUM(CASE WHEN day >= :since THEN events ELSE 0 END) AS events,
           MIN(first_seen) AS first_seen
    FROM dep_daily
    WHERE day <= :until
    GROUP BY dep
    HAVING MIN(day) BETWEEN :since AND :until
)
SELECT NULLIF(p.client, '') AS client, NULLIF(p.account, '') AS account,
       NULLIF(p.domain, '') AS domain, NULLIF(p.process, '') AS process,
       NULLIF(p.target, '') AS target, NULLIF(p.target_service, '') AS target_service,
       NULLIF(p.reason_id, -1) AS reason_id, NULLIF(p.ntlm_version, '') AS ntlm_version,
       k.events, k.first_seen
FROM k
JOIN dep AS p ON p.id = k.dep
ORDER BY k.events DESC, p.client, p.account, p.target
LIMIT :limit;
