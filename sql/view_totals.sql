-- View `totals`: one row of totals over the range: events, NTLMv1, warnings, blocked, and
-- the distinct dependencies, accounts, clients, targets and reporting hosts.
-- Continues sql/dep_range_part.sql or sql/dep_range_whole.sql (r, x, span).
,
s AS (
    SELECT COALESCE(SUM(events), 0) AS events,
           COALESCE(SUM(ntlmv1_events), 0) AS ntlmv1_events,
           COALESCE(SUM(warnings), 0) AS warnings,
           COALESCE(SUM(blocked), 0) AS blocked
    FROM day_total
    WHERE day BETWEEN :since AND :until
),
k AS MATERIALIZED (
    -- the dependencies seen in the range, once, with the integer keys of their folded names
    -- (the accounts, clients and targets views group on the same keys); the totals are the
    -- whole domain's: no dependency filter (r, not x)
    SELECT p.akey, p.ckey, p.tkey
    FROM r
    JOIN dep AS p ON p.id = r.dep
)
SELECT s.events, s.ntlmv1_events, s.warnings, s.blocked,
       (SELECT COUNT(*) FROM k) AS dependencies,
       (SELECT COUNT(DISTINCT akey) FROM k) AS accounts,
       (SELECT COUNT(DISTINCT ckey) FROM k) AS clients,
       (SELECT COUNT(DISTINCT tkey) FROM k) AS targets,
       CASE WHEN (SELECT whole FROM span) = 1
            THEN (SELECT COUNT(DISTINCT computer) FROM host_total)
            ELSE (SELECT COUNT(DISTINCT computer) FROM host_daily
                  WHERE day BETWEEN :since AND :until) END AS hosts
FROM s;
