-- View `trend`: NTLM events per day, with NTLMv1, warnings and blocked.
SELECT day,
       SUM(events) AS events,
       SUM(ntlmv1_events) AS ntlmv1_events,
       SUM(warnings) AS warnings,
       SUM(blocked) AS blocked
FROM day_total
WHERE day BETWEEN :since AND :until
GROUP BY day
ORDER BY day
LIMIT :limit;
