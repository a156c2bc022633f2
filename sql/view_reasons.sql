-- View `reasons`: why NTLM was used (NtlmUsageId), with the remediation for each reason.
-- Events that carry no reason (server, DC and the older 4001-8006 events) form the row with
-- reason_id null.
-- Continues sql/dep_range_part.sql or sql/dep_range_whole.sql (r, x).
SELECT NULLIF(x.reason_id, -1) AS reason_id,
       COALESCE(rs.reason, 'Not reported by this event type') AS reason,
       SUM(x.events) AS events,
       COUNT(DISTINCT x.ckey) AS clients,
       COUNT(DISTINCT x.tkey) AS targets,
       COALESCE(rs.remediation,
                'Only client 4020/4021 events carry a reason: read them for these clients, '
                || 'or turn on NTLM Enhanced Logging (Windows 11 24H2 / Server 2025) there')
           AS remediation
FROM x
LEFT JOIN reason AS rs ON rs.id = x.reason_id
GROUP BY x.reason_id
ORDER BY events DESC, x.reason_id
LIMIT :limit;
