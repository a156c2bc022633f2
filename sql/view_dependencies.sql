-- Views `dependencies` and `ntlmv1`: one row per (client, account, process) -> (target,
-- service) with its reason and NTLM version, over the days in range. :v1_only = 1 keeps the
-- NTLMv1 and LM dependencies (the `ntlmv1` view).
-- Common parameters of the views: :since, :until (day numbers, inclusive), :limit, :offset;
-- :q (a LIKE pattern, escaped by the caller) searched in the text columns (by x:
-- sql/dep_range_search.sql); :sort (a column name) and :desc (0 or 1); exact filters :client
-- :account :domain :process :target :service :reason_id :version ('' matches an absent
-- value). Unset parameters are NULL. _total (all rows before :limit and :offset) is read by
-- the store and never shown; it is counted by a second pass over d (no sort) rather than a
-- window over the sorted rows.
-- Continues sql/dep_range_part.sql or sql/dep_range_whole.sql (x).
,
d AS NOT MATERIALIZED (
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
SELECT *, (SELECT COUNT(*) FROM d) AS _total
FROM d
ORDER BY
    CASE WHEN :desc = 0 THEN CASE :sort
        WHEN 'client' THEN client WHEN 'client_ip' THEN client_ip WHEN 'account' THEN account
        WHEN 'domain' THEN domain WHEN 'process' THEN process WHEN 'target' THEN target
        WHEN 'target_service' THEN target_service WHEN 'target_ip' THEN target_ip
        WHEN 'reason_id' THEN reason_id WHEN 'ntlm_version' THEN ntlm_version
        WHEN 'events' THEN events WHEN 'first_seen' THEN first_seen
        WHEN 'last_seen' THEN last_seen END END ASC,
    CASE WHEN :desc = 1 THEN CASE :sort
        WHEN 'client' THEN client WHEN 'client_ip' THEN client_ip WHEN 'account' THEN account
        WHEN 'domain' THEN domain WHEN 'process' THEN process WHEN 'target' THEN target
        WHEN 'target_service' THEN target_service WHEN 'target_ip' THEN target_ip
        WHEN 'reason_id' THEN reason_id WHEN 'ntlm_version' THEN ntlm_version
        WHEN 'events' THEN events WHEN 'first_seen' THEN first_seen
        WHEN 'last_seen' THEN last_seen END END DESC,
    events DESC, last_seen DESC, client, account, target
LIMIT :limit OFFSET :offset;
