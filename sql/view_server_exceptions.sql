-- Views `remote_server_exceptions` (:kind 'remote') and `domain_server_exceptions` (:kind
-- 'domain'): the lists for "Network security: Restrict NTLM: Add remote server exceptions
-- for NTLM authentication" (the servers clients still reach with NTLM, as the clients name
-- them) and "Add server exceptions in this domain" (the servers the domain controllers still
-- see NTLM for), with the evidence.
-- Parameters: :since, :until (day numbers, inclusive), :limit, :offset, :q, :sort, :desc.
WITH k AS MATERIALIZED (
    SELECT id FROM str WHERE s = :kind
),
v AS (
    -- grouped on the folded name's id (sql/migrate_014_rollup_ids.sql)
    SELECT name,
           SUM(events) AS events,
           COUNT(DISTINCT NULLIF(client, 0)) AS clients,
           COUNT(DISTINCT NULLIF(account, 0)) AS accounts,
           MIN(first_seen) AS first_seen,
           MAX(last_seen) AS last_seen,
           MIN(spelled) AS spelled
    FROM exc_daily
    WHERE kind = (SELECT id FROM k) AND day BETWEEN :since AND :until
    GROUP BY name
),
n AS (
    -- shown as written in its first event: the spelling of its earliest row (its day is the
    -- first event's; SQL's division rounds toward 0, ingest's day number down: before 1970
    -- the lowest id's spelling)
    SELECT COALESCE((SELECT s.s FROM exc_daily AS x JOIN str AS s ON s.id = x.spelled
                     WHERE x.day = v.first_seen / 86400000000 AND x.kind = (SELECT id FROM k)
                           AND x.name = v.name
                     ORDER BY x.first_seen LIMIT 1),
                    (SELECT s FROM str WHERE id = v.spelled)) COLLATE NOCASE AS server,
           v.events, v.clients, v.accounts, v.first_seen, v.last_seen
    FROM v
)
SELECT *, COUNT(*) OVER () AS _total
FROM n
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
