-- View `accounts`: who authenticates with NTLM, with how many clients and targets.
SELECT NULLIF(account, '') AS account,
       NULLIF(domain, '') AS domain,
       SUM(events) AS events,
       SUM(ntlmv1_events) AS ntlmv1_events,
       COUNT(DISTINCT NULLIF(client, '')) AS clients,
       COUNT(DISTINCT NULLIF(target, '')) AS targets,
       MIN(first_seen) AS first_seen,
       MAX(last_seen) AS last_seen
FROM dep_daily
WHERE day BETWEEN :since AND :until
GROUP BY account, domain
ORDER BY events DESC, account, domain
LIMIT :limit;
