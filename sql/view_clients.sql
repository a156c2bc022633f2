-- View `clients`: where NTLM comes from: client machines and addresses.
SELECT NULLIF(client, '') AS client,
       NULLIF(MAX(client_ip), '') AS client_ip,
       SUM(events) AS events,
       COUNT(DISTINCT lower(account) || char(31) || lower(domain)) AS accounts,
       COUNT(DISTINCT NULLIF(target, '')) AS targets,
       SUM(ntlmv1_events) AS ntlmv1_events
FROM dep_daily
WHERE day BETWEEN :since AND :until
GROUP BY client
ORDER BY events DESC, client
LIMIT :limit;
