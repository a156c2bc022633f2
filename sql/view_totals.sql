-- View `totals`: one row of totals over the range: events, NTLMv1, warnings, blocked, and
-- the distinct dependencies, accounts, clients, targets and reporting hosts.
WITH s AS (
    SELECT COALESCE(SUM(events), 0) AS events,
           COALESCE(SUM(ntlmv1_events), 0) AS ntlmv1_events,
           COALESCE(SUM(warnings), 0) AS warnings,
           COALESCE(SUM(blocked), 0) AS blocked
    FROM day_total
    WHERE day BETWEEN :since AND :until
),
k AS MATERIALIZED (
    -- the dependencies seen in the range, once (store/range.c sums them without sorting)
    SELECT p.client, p.account, p.domain, p.target
    FROM ns_dep_range(:since, :until) AS r
    JOIN dep AS p ON p.id = r.dep
)
SELECT s.events, s.ntlmv1_events, s.warnings, s.blocked,
       (SELECT COUNT(*) FROM k) AS dependencies,
       (SELECT COUNT(DISTINCT lower(account) || char(31) || lower(domain)) FROM k) AS accounts,
       (SELECT COUNT(DISTINCT NULLIF(client, '')) FROM k) AS clients,
       (SELECT COUNT(DISTINCT NULLIF(target, '')) FROM k) AS targets,
       (SELECT COUNT(DISTINCT computer) FROM host_daily
        WHERE day BETWEEN :since AND :until) AS hosts
FROM s;
