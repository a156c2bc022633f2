-- View `totals`: one row of totals over the range: events, NTLMv1, warnings, blocked, and
-- the distinct dependencies, accounts, clients, targets and reporting hosts.
-- The dependencies are the whole domain's (no dependency filter), counted by ns_dep_group
-- (store/group.c) on the integer keys the accounts, clients and targets views group on;
-- :whole = 1 when the range holds every stored day.
WITH s AS (
    SELECT COALESCE(SUM(events), 0) AS events,
           COALESCE(SUM(ntlmv1_events), 0) AS ntlmv1_events,
           COALESCE(SUM(warnings), 0) AS warnings,
           COALESCE(SUM(blocked), 0) AS blocked
    FROM day_total
    WHERE day BETWEEN :since AND :until
)
SELECT s.events, s.ntlmv1_events, s.warnings, s.blocked,
       COALESCE(k.dependencies, 0) AS dependencies,
       COALESCE(k.accounts, 0) AS accounts,
       COALESCE(k.clients, 0) AS clients,
       COALESCE(k.targets, 0) AS targets,
       CASE WHEN :whole = 1
            THEN (SELECT COUNT(DISTINCT computer) FROM host_total)
            ELSE (SELECT COUNT(DISTINCT computer) FROM host_daily
                  WHERE day BETWEEN :since AND :until) END AS hosts
FROM s
LEFT JOIN ns_dep_group('all', :since, :until, :whole) AS k ON 1;
