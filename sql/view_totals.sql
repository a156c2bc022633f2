-- View `totals`: one row of totals over the range: events, NTLMv1, warnings, blocked, and
-- the distinct dependencies, accounts, clients, targets and reporting hosts.
SELECT COALESCE(SUM(events), 0) AS events,
       COALESCE(SUM(ntlmv1_events), 0) AS ntlmv1_events,
       COALESCE(SUM(warnings), 0) AS warnings,
       COALESCE(SUM(blocked), 0) AS blocked,
       (SELECT COUNT(*)
        FROM (SELECT 1 FROM dep_daily WHERE day BETWEEN :since AND :until
              GROUP BY client, account, domain, process, target, target_service, reason_id,
                       ntlm_version)) AS dependencies,
       COUNT(DISTINCT lower(account) || char(31) || lower(domain)) AS accounts,
       COUNT(DISTINCT NULLIF(client, '')) AS clients,
       COUNT(DISTINCT NULLIF(target, '')) AS targets,
       (SELECT COUNT(DISTINCT computer) FROM host_daily
        WHERE day BETWEEN :since AND :until) AS hosts
FROM dep_daily
WHERE day BETWEEN :since AND :until;
