-- View `new_dependencies`: dependencies first seen in the range (never before :since), with
-- their events in the range. For the weekly summary: "new this week".
WITH k AS (
    SELECT client, account, domain, process, target, target_service, reason_id, ntlm_version,
           MIN(day) AS first_day,
           SUM(CASE WHEN day >= :since THEN events ELSE 0 END) AS events,
           MIN(first_seen) AS first_seen
    FROM dep_daily
    WHERE day <= :until
    GROUP BY client, account, domain, process, target, target_service, reason_id, ntlm_version
)
SELECT NULLIF(client, '') AS client, NULLIF(account, '') AS account,
       NULLIF(domain, '') AS domain, NULLIF(process, '') AS process,
       NULLIF(target, '') AS target, NULLIF(target_service, '') AS target_service,
       NULLIF(reason_id, -1) AS reason_id, NULLIF(ntlm_version, '') AS ntlm_version,
       events, first_seen
FROM k
WHERE first_day BETWEEN :since AND :until
ORDER BY events DESC, client, account, target
LIMIT :limit;
