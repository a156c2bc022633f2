-- View `reasons`: why NTLM was used (NtlmUsageId), with the remediation for each reason.
-- Events that carry no reason (server, DC and the older 4001-8006 events) form the row with
-- reason_id null.
WITH r AS (
    -- the range, per dependency: integers only
    SELECT dep,
           SUM(events) AS events,
           SUM(ntlmv1_events) AS ntlmv1_events,
           MIN(first_seen) AS first_seen,
           MAX(last_seen) AS last_seen,
           MAX(day) AS last_day
    FROM dep_daily
    WHERE day BETWEEN :since AND :until
    GROUP BY dep
),
x AS (
    -- with the names, filtered
    SELECT p.client, p.account, p.domain, p.process, p.target, p.target_service, p.reason_id,
           p.ntlm_version, p.client_ip, p.target_ip, r.events, r.ntlmv1_events, r.first_seen,
           r.last_seen, r.last_day
    FROM r
    JOIN dep AS p ON p.id = r.dep
    WHERE (:client IS NULL OR p.client = :client)
      AND (:account IS NULL OR p.account = :account)
      AND (:domain IS NULL OR p.domain = :domain)
      AND (:process IS NULL OR p.process = :process)
      AND (:target IS NULL OR p.target = :target)
      AND (:service IS NULL OR p.target_service = :service)
      AND (:reason_id IS NULL OR p.reason_id = CASE WHEN :reason_id = '' THEN -1 ELSE :reason_id END)
      AND (:version IS NULL OR p.ntlm_version = :version)
)
SELECT NULLIF(x.reason_id, -1) AS reason_id,
       COALESCE(rs.reason, 'Not reported by this event type') AS reason,
       SUM(x.events) AS events,
       COUNT(DISTINCT NULLIF(x.client, '')) AS clients,
       COUNT(DISTINCT NULLIF(x.target, '')) AS targets,
       COALESCE(rs.remediation,
                'Only client 4020/4021 events carry a reason: read them for these clients, '
                || 'or turn on NTLM Enhanced Logging (Windows 11 24H2 / Server 2025) there')
           AS remediation
FROM x
LEFT JOIN reason AS rs ON rs.id = x.reason_id
GROUP BY x.reason_id
ORDER BY events DESC, x.reason_id
LIMIT :limit;
