-- View `retired_dependencies`: dependencies seen in the 7 days before :since but not from
-- :since to :until, with their events in those 7 days. For the weekly summary: "retired".
WITH k AS (
    SELECT client, account, domain, process, target, target_service, reason_id, ntlm_version,
           MAX(day) AS last_day,
           SUM(events) AS events,
           MAX(last_seen) AS last_seen
    FROM dep_daily
    WHERE day BETWEEN :since - 7 AND :until
    GROUP BY client, account, domain, process, target, target_service, reason_id, ntlm_version
)
SELECT NULLIF(client, '') AS client, NULLIF(account, '') AS account,
       NULLIF(domain, '') AS domain, NULLIF(process, '') AS process,
       NULLIF(target, '') AS target, NULLIF(target_service, '') AS target_service,
       NULLIF(reason_id, -1) AS reason_id, NULLIF(ntlm_version, '') AS ntlm_version,
       events, last_seen
FROM k
WHERE last_day < :since
ORDER BY events DESC, client, account, target
LIMIT :limit;
