-- View `targets`: where NTLM goes: servers and services, with who reaches them.
SELECT NULLIF(target, '') AS target,
       NULLIF(target_service, '') AS target_service,
       NULLIF(MAX(target_ip), '') AS target_ip,
       SUM(events) AS events,
       COUNT(DISTINCT lower(account) || char(31) || lower(domain)) AS accounts,
       COUNT(DISTINCT NULLIF(client, '')) AS clients,
       SUM(ntlmv1_events) AS ntlmv1_events
FROM dep_daily
WHERE day BETWEEN :since AND :until
GROUP BY target, target_service
ORDER BY events DESC, target, target_service
LIMIT :limit;
