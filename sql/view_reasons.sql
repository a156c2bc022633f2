-- View `reasons`: why NTLM was used (NtlmUsageId), with the remediation for each reason.
-- Events that carry no reason (server, DC and the older 4001-8006 events) form the row with
-- reason_id null.
SELECT NULLIF(d.reason_id, -1) AS reason_id,
       COALESCE(r.reason, 'Not reported by this event type') AS reason,
       SUM(d.events) AS events,
       COUNT(DISTINCT NULLIF(d.client, '')) AS clients,
       COUNT(DISTINCT NULLIF(d.target, '')) AS targets,
       COALESCE(r.remediation,
                'Only client 4020/4021 events carry a reason: read them for these clients, '
                || 'or turn on NTLM Enhanced Logging (Windows 11 24H2 / Server 2025) there')
           AS remediation
FROM dep_daily AS d
LEFT JOIN reason AS r ON r.id = d.reason_id
WHERE d.day BETWEEN :since AND :until
GROUP BY d.reason_id
ORDER BY events DESC, d.reason_id
LIMIT :limit;
