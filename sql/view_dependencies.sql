-- Views `dependencies` and `ntlmv1`: one row per (client, account, process) -> (target,
-- service) with its reason and NTLM version, over the days in range. :v1_only = 1 keeps the
-- NTLMv1 and LM dependencies (the `ntlmv1` view).
SELECT NULLIF(client, '') AS client,
       NULLIF(MAX(client_ip), '') AS client_ip,
       NULLIF(account, '') AS account,
       NULLIF(domain, '') AS domain,
       NULLIF(process, '') AS process,
       NULLIF(target, '') AS target,
       NULLIF(target_service, '') AS target_service,
       NULLIF(MAX(target_ip), '') AS target_ip,
       NULLIF(reason_id, -1) AS reason_id,
       NULLIF(ntlm_version, '') AS ntlm_version,
       SUM(events) AS events,
       MIN(first_seen) AS first_seen,
       MAX(last_seen) AS last_seen
FROM dep_daily
WHERE day BETWEEN :since AND :until
  AND (:v1_only = 0 OR ntlm_version IN ('NTLMv1', 'LM'))
GROUP BY client, account, domain, process, target, target_service, reason_id, ntlm_version
ORDER BY events DESC, last_seen DESC, client, account, target
LIMIT :limit;
