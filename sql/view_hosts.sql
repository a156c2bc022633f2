-- View `hosts`: the machines whose logs reached ntlmscope, their roles and last report.
SELECT computer,
       group_concat(DISTINCT role) AS roles,
       SUM(events) AS events,
       MIN(first_seen) AS first_seen,
       MAX(last_seen) AS last_seen
FROM host_daily
WHERE day BETWEEN :since AND :until
GROUP BY computer
ORDER BY last_seen DESC, computer
LIMIT :limit;
