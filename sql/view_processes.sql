-- View `processes`: which programs use NTLM, for how many accounts on how many hosts.
SELECT NULLIF(process, '') AS process,
       SUM(events) AS events,
       COUNT(DISTINCT lower(account) || char(31) || lower(domain)) AS accounts,
       COUNT(DISTINCT NULLIF(client, '')) AS hosts,
       SUM(ntlmv1_events) AS ntlmv1_events
FROM dep_daily
WHERE day BETWEEN :since AND :until
GROUP BY process
ORDER BY events DESC, process
LIMIT :limit;
