-- Views `dependencies` and `ntlmv1`: one row per (client, account, process) -> (target,
-- service) with its reason and NTLM version, over the days in range. :v1_only = 1 keeps the
-- NTLMv1 and LM dependencies (the `ntlmv1` view).
-- Common parameters of the views: :since, :until (day numbers, inclusive), :limit, :offset;
-- :q (a LIKE pattern, escaped by the caller) searched in the text columns; :sort (a column
-- name) and :desc (0 or 1); exact filters :client :account :domain :process :target
-- :service :reason_id :version ('' matches an absent value). Unset parameters are NULL.
-- _total (all rows before :limit and :offset) is read by the store and never shown.
-- Continues sql/dep_range.sql (r, x).
,
d AS (
    SELECT NULLIF(client, '') AS client,
           NULLIF(client_ip, '') AS client_ip,
           NULLIF(account, '') AS account,
           NULLIF(domain, '') AS domain,
           NULLIF(process, '') AS process,
           NULLIF(target, '') AS target,
           NULLIF(target_service, '') AS target_service,
           NULLIF(target_ip, '') AS target_ip,
           NULLIF(reason_id, -1) AS reason_id,
           NULLIF(ntlm_version, '') AS ntlm_version,
           events, first_seen, last_seen
    FROM x
)
SELECT *, COUNT(*) OVER () AS _total
FROM d
WHERE (:q IS NULL OR client LIKE :q ESCAPE '\'
       OR client_ip LIKE :q ESCAPE '\'
       OR account LIKE :q ESCAPE '\'
       OR domain LIKE :q ESCAPE '\'
       OR process LIKE :q ESCAPE '\'
       OR target LIKE :q ESCAPE '\'
       OR target_service LIKE :q ESCAPE '\'
       OR target_ip LIKE :q ESCAPE '\'
       OR ntlm_version LIKE :q ESCAPE '\')
ORDER BY
         CASE WHEN :sort = 'client' AND :desc = 0 THEN client END ASC,
         CASE WHEN :sort = 'client' AND :desc = 1 THEN client END DESC,
         CASE WHEN :sort = 'client_ip' AND :desc = 0 THEN client_ip END ASC,
         CASE WHEN :sort = 'client_ip' AND :desc = 1 THEN client_ip END DESC,
         CASE WHEN :sort = 'account' AND :desc = 0 THEN account END ASC,
         CASE WHEN :sort = 'account' AND :desc = 1 THEN account END DESC,
         CASE WHEN :sort = 'domain' AND :desc = 0 THEN domain END ASC,
         CASE WHEN :sort = 'domain' AND :desc = 1 THEN domain END DESC,
         CASE WHEN :sort = 'process' AND :desc = 0 THEN process END ASC,
         CASE WHEN :sort = 'process' AND :desc = 1 THEN process END DESC,
         CASE WHEN :sort = 'target' AND :desc = 0 THEN target END ASC,
         CASE WHEN :sort = 'target' AND :desc = 1 THEN target END DESC,
         CASE WHEN :sort = 'target_service' AND :desc = 0 THEN target_service END ASC,
         CASE WHEN :sort = 'target_service' AND :desc = 1 THEN target_service END DESC,
         CASE WHEN :sort = 'target_ip' AND :desc = 0 THEN target_ip END ASC,
         CASE WHEN :sort = 'target_ip' AND :desc = 1 THEN target_ip END DESC,
         CASE WHEN :sort = 'reason_id' AND :desc = 0 THEN reason_id END ASC,
         CASE WHEN :sort = 'reason_id' AND :desc = 1 THEN reason_id END DESC,
         CASE WHEN :sort = 'ntlm_version' AND :desc = 0 THEN ntlm_version END ASC,
         CASE WHEN :sort = 'ntlm_version' AND :desc = 1 THEN ntlm_version END DESC,
         CASE WHEN :sort = 'events' AND :desc = 0 THEN events END ASC,
         CASE WHEN :sort = 'events' AND :desc = 1 THEN events END DESC,
         CASE WHEN :sort = 'first_seen' AND :desc = 0 THEN first_seen END ASC,
         CASE WHEN :sort = 'first_seen' AND :desc = 1 THEN first_seen END DESC,
         CASE WHEN :sort = 'last_seen' AND :desc = 0 THEN last_seen END ASC,
         CASE WHEN :sort = 'last_seen' AND :desc = 1 THEN last_seen END DESC,
         events DESC, last_seen DESC, client, account, target
LIMIT :limit OFFSET :offset;
