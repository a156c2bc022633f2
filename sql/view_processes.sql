-- View `processes`: which programs use NTLM, for how many accounts on how many hosts.
-- Common parameters of the views: :since, :until (day numbers, inclusive), :limit, :offset;
-- :q (a LIKE pattern, escaped by the caller) searched in the text columns; :sort (a column
-- name) and :desc (0 or 1); exact filters :client :account :domain :process :target
-- :service :reason_id :version ('' matches an absent value). Unset parameters are NULL.
-- _total (all rows before :limit and :offset) is read by the store and never shown.
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
),
v AS (
    SELECT NULLIF(process, '') AS process,
           SUM(events) AS events,
           COUNT(DISTINCT lower(account) || char(31) || lower(domain)) AS accounts,
           COUNT(DISTINCT NULLIF(client, '')) AS hosts,
           SUM(ntlmv1_events) AS ntlmv1_events
    FROM x
    GROUP BY x.process
)
SELECT *, COUNT(*) OVER () AS _total
FROM v
WHERE (:q IS NULL OR process LIKE :q ESCAPE '\')
ORDER BY
         CASE WHEN :sort = 'process' AND :desc = 0 THEN process END ASC,
         CASE WHEN :sort = 'process' AND :desc = 1 THEN process END DESC,
         CASE WHEN :sort = 'events' AND :desc = 0 THEN events END ASC,
         CASE WHEN :sort = 'events' AND :desc = 1 THEN events END DESC,
         CASE WHEN :sort = 'accounts' AND :desc = 0 THEN accounts END ASC,
         CASE WHEN :sort = 'accounts' AND :desc = 1 THEN accounts END DESC,
         CASE WHEN :sort = 'hosts' AND :desc = 0 THEN hosts END ASC,
         CASE WHEN :sort = 'hosts' AND :desc = 1 THEN hosts END DESC,
         CASE WHEN :sort = 'ntlmv1_events' AND :desc = 0 THEN ntlmv1_events END ASC,
         CASE WHEN :sort = 'ntlmv1_events' AND :desc = 1 THEN ntlmv1_events END DESC,
         events DESC, process
LIMIT :limit OFFSET :offset;
