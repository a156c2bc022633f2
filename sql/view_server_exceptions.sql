-- Views `remote_server_exceptions` (:kind 'remote') and `domain_server_exceptions` (:kind
-- 'domain'): the lists for "Network security: Restrict NTLM: Add remote server exceptions
-- for NTLM authentication" (the servers clients still reach with NTLM, as the clients name
-- them) and "Add server exceptions in this domain" (the servers the domain controllers still
-- see NTLM for), with the evidence.
-- Parameters: :since, :until (day numbers, inclusive), :limit, :offset, :q, :sort, :desc.
WITH v AS (
    SELECT name AS server,
           SUM(events) AS events,
           COUNT(DISTINCT NULLIF(client, '')) AS clients,
           COUNT(DISTINCT NULLIF(lower(account) || char(31) || lower(domain), char(31))) AS accounts,
           MIN(first_seen) AS first_seen,
           MAX(last_seen) AS last_seen
    FROM exc_daily
    WHERE kind = :kind AND day BETWEEN :since AND :until
    GROUP BY name
)
SELECT *, COUNT(*) OVER () AS _total
FROM v
WHERE (:q IS NULL OR server LIKE :q ESCAPE '\')
ORDER BY
         CASE WHEN :sort = 'server' AND :desc = 0 THEN server END ASC,
         CASE WHEN :sort = 'server' AND :desc = 1 THEN server END DESC,
         CASE WHEN :sort = 'events' AND :desc = 0 THEN events END ASC,
         CASE WHEN :sort = 'events' AND :desc = 1 THEN events END DESC,
         CASE WHEN :sort = 'clients' AND :desc = 0 THEN clients END ASC,
         CASE WHEN :sort = 'clients' AND :desc = 1 THEN clients END DESC,
         CASE WHEN :sort = 'accounts' AND :desc = 0 THEN accounts END ASC,
         CASE WHEN :sort = 'accounts' AND :desc = 1 THEN accounts END DESC,
         CASE WHEN :sort = 'first_seen' AND :desc = 0 THEN first_seen END ASC,
         CASE WHEN :sort = 'first_seen' AND :desc = 1 THEN first_seen END DESC,
         CASE WHEN :sort = 'last_seen' AND :desc = 0 THEN last_seen END ASC,
         CASE WHEN :sort = 'last_seen' AND :desc = 1 THEN last_seen END DESC,
         server
LIMIT :limit OFFSET :offset;
