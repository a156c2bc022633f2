-- View `clients`: where NTLM comes from: client machines and addresses.
-- Common parameters of the views: :since, :until (day numbers, inclusive), :limit, :offset;
-- :q (a LIKE pattern, escaped by the caller) searched in the text columns; :sort (a column
-- name) and :desc (0 or 1); exact filters :client :account :domain :process :target
-- :service :reason_id :version ('' matches an absent value). Unset parameters are NULL.
-- _total (all rows before :limit and :offset) is read by the store and never shown.
-- Grouped by ns_dep_group (store/group.c; sql/dep_group_columns.sql), named after each
-- group's dependency with the lowest id; :whole = 1 when the range holds every stored day.
WITH v AS (
    SELECT NULLIF(n.client, '') AS client,
           NULLIF(g.client_ip, '') AS client_ip,
           g.events, g.accounts, g.targets, g.ntlmv1_events
    FROM ns_dep_group('client', :since, :until, :whole, NULL, :client, :account, :domain,
                      :process, :target, :service, :reason_id, :version) AS g
    JOIN dep AS n ON n.id = g.dep
)
SELECT *, COUNT(*) OVER () AS _total
FROM v
WHERE (:q IS NULL OR client LIKE :q ESCAPE '\'
       OR client_ip LIKE :q ESCAPE '\')
ORDER BY
         CASE WHEN :sort = 'client' AND :desc = 0 THEN client END ASC,
         CASE WHEN :sort = 'client' AND :desc = 1 THEN client END DESC,
         CASE WHEN :sort = 'client_ip' AND :desc = 0 THEN client_ip END ASC,
         CASE WHEN :sort = 'client_ip' AND :desc = 1 THEN client_ip END DESC,
         CASE WHEN :sort = 'events' AND :desc = 0 THEN events END ASC,
         CASE WHEN :sort = 'events' AND :desc = 1 THEN events END DESC,
         CASE WHEN :sort = 'accounts' AND :desc = 0 THEN accounts END ASC,
         CASE WHEN :sort = 'accounts' AND :desc = 1 THEN accounts END DESC,
         CASE WHEN :sort = 'targets' AND :desc = 0 THEN targets END ASC,
         CASE WHEN :sort = 'targets' AND :desc = 1 THEN targets END DESC,
         CASE WHEN :sort = 'ntlmv1_events' AND :desc = 0 THEN ntlmv1_events END ASC,
         CASE WHEN :sort = 'ntlmv1_events' AND :desc = 1 THEN ntlmv1_events END DESC,
         events DESC, client
LIMIT :limit OFFSET :offset;
