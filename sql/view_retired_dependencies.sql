-- View `retired_dependencies`: dependencies seen in the 7 days before :since but not from
-- :since to :until, with their events in those 7 days. For the weekly summary: "retired".
WITH k AS (
    SELECT dep,
           SUM(events) AS events,
           MAX(last_seen) AS last_seen
    FROM dep_daily
    WHERE day BETWEEN :since - 7 AND :until
    GROUP BY dep
    HAVING MAX(day) < :since
)
SELECT NULLIF(p.client, '') AS client, NULLIF(p.account, '') AS account,
       NULLIF(p.domain, '') AS domain, NULLIF(p.process, '') AS process,
       NULLIF(p.target, '') AS target, NULLIF(p.target_service, '') AS target_service,
       NULLIF(p.reason_id, -1) AS reason_id, NULLIF(p.ntlm_version, '') AS ntlm_version,
       k.events, k.last_seen
FROM k
JOIN dep AS p ON p.id = k.dep
ORDER BY k.events DESC, p.client, p.account, p.target
LIMIT :limit;
