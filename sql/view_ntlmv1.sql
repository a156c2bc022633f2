-- View `ntlmv1`: the dependencies that use NTLMv1 or LM.
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
WHERE day BETWEEN :since AND :until AND ntlm_version IN ('NTLMv1', 'LM')
GROUP BY client, account, domain, process, target, target_service, reason_id, ntlm_version
ORDER BY events DESC, last_seen DESC, client, account, target
LIMIT :limit;
