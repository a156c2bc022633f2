-- View `reasons`: why NTLM was used (NtlmUsageId), with the remediation for each reason.
-- Events that carry no reason (server, DC and the older 4001-8006 events) form the row with
-- reason_id null.
-- Grouped by ns_dep_group (store/group.c; sql/dep_group_columns.sql); :whole = 1 when the
-- range holds every stored day.
SELECT NULLIF(g.gkey, -1) AS reason_id,
       COALESCE(rs.reason, 'Not reported by this event type') AS reason,
       g.events,
       g.clients,
       g.targets,
       COALESCE(rs.remediation,
                'Only client 4020/4021 events carry a reason: read them for these clients, '
                || 'or turn on NTLM Enhanced Logging (Windows 11 24H2 / Server 2025) there')
           AS remediation
FROM ns_dep_group('reason', :since, :until, :whole, NULL, :client, :account, :domain,
                  :process, :target, :service, :reason_id, :version) AS g
LEFT JOIN reason AS rs ON rs.id = g.gkey
ORDER BY g.events DESC, g.gkey
LIMIT :limit;
