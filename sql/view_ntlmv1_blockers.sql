-- View `ntlmv1_blockers`: the clients, accounts and processes that still use NTLMv1 or LM:
-- what breaks when LmCompatibilityLevel is raised to 5 (send NTLMv2 only, refuse LM and
-- NTLM), with the evidence.
-- Parameters: :since, :until (day numbers, inclusive), :limit, :offset, :q, :sort, :desc.
WITH r AS (
    SELECT dep, SUM(ntlmv1_events) AS events, MIN(first_seen) AS first_seen,
           MAX(last_seen) AS last_seen
    FROM dep_daily
    WHERE day BETWEEN :since AND :until AND ntlmv1_events > 0
    GROUP BY dep
),
v AS (
    SELECT NULLIF(p.client, '') AS client,
           NULLIF(p.account, '') AS account,
           NULLIF(p.domain, '') AS domain,
           NULLIF(p.process, '') AS process,
           SUM(r.events) AS events,
           COUNT(DISTINCT NULLIF(p.target, '')) AS targets,
           MIN(r.first_seen) AS first_seen,
           MAX(r.last_seen) AS last_seen
    FROM r
    JOIN dep AS p ON p.id = r.dep
    GROUP BY p.client, p.account, p.domain, p.process
)
SELECT *, COUNT(*) OVER () AS _total
FROM v
WHERE (:q IS NULL OR client LIKE :q ESCAPE '\' OR account LIKE :q ESCAPE '\'
       OR process LIKE :q ESCAPE '\')
ORDER BY
         CASE WHEN :sort = 'client' AND :desc = 0 THEN client END ASC,
         CASE WHEN :sort = 'client' AND :desc = 1 THEN client END DESC,
         CASE WHEN :sort = 'account' AND :desc = 0 THEN account END ASC,
         CASE WHEN :sort = 'account' AND :desc = 1 THEN account END DESC,
         CASE WHEN :sort = 'domain' AND :desc = 0 THEN domain END ASC,
         CASE WHEN :sort = 'domain' AND :desc = 1 THEN domain END DESC,
         CASE WHEN :sort = 'process' AND :desc = 0 THEN process END ASC,
         CASE WHEN :sort = 'process' AND :desc = 1 THEN process END DESC,
         CASE WHEN :sort = 'events' AND :desc = 0 THEN events END ASC,
         CASE WHEN :sort = 'events' AND :desc = 1 THEN events END DESC,
         CASE WHEN :sort = 'targets' AND :desc = 0 THEN targets END ASC,
         CASE WHEN :sort = 'targets' AND :desc = 1 THEN targets END DESC,
         CASE WHEN :sort = 'first_seen' AND :desc = 0 THEN first_seen END ASC,
         CASE WHEN :sort = 'first_seen' AND :desc = 1 THEN first_seen END DESC,
         CASE WHEN :sort = 'last_seen' AND :desc = 0 THEN last_seen END ASC,
         CASE WHEN :sort = 'last_seen' AND :desc = 1 THEN last_seen END DESC,
         events DESC, client, account
LIMIT :limit OFFSET :offset;
