-- View `targets`: where NTLM goes: servers and services, with who reaches them.
-- Common parameters of the views: :since, :until (day numbers, inclusive), :limit, :offset;
-- :q (a LIKE pattern, escaped by the caller) searched in the text columns; :sort (a column
-- name) and :desc (0 or 1); exact filters :client :account :domain :process :target
-- :service :reason_id :version ('' matches an absent value). Unset parameters are NULL.
-- _total (all rows before :limit and :offset) is read by the store and never shown.
-- Grouped by ns_dep_group (store/group.c; sql/dep_group_columns.sql), named after each
-- group's dependency with the lowest id; :whole = 1 when the range holds every stored day.
WITH v AS (
    SELECT NULLIF(n.target, '') AS target,
           NULLIF(n.target_service, '') AS target_service,
           NULLIF(g.target_ip, '') AS target_ip,
           g.events, g.accounts, g.clients, g.ntlmv1_events
    FROM ns_dep_group('target_service', :since, :until, :whole, NULL, :client, :account, :domain,
                      :process, :target, :service, :reason_id, :version) AS g
    JOIN dep AS n ON n.id = g.dep
)
SELECT *, COUNT(*) OVER () AS _total
FROM v
WHERE (:q IS NULL OR target LIKE :q ESCAPE '\'
       OR target_service LIKE :q ESCAPE '\'
       OR target_ip LIKE :q ESCAPE '\')
ORDER BY
         CASE WHEN :sort = 'target' AND :desc = 0 THEN target END ASC,
         CASE WHEN :sort = 'target' AND :desc = 1 THEN target END DESC,
         CASE WHEN :sort = 'target_service' AND :desc = 0 THEN target_service END ASC,
         CASE WHEN :sort = 'target_service' AND :desc = 1 THEN target_service END DESC,
         CASE WHEN :sort = 'target_ip' AND :desc = 0 THEN target_ip END ASC,
         CASE WHEN :sort = 'target_ip' AND :desc = 1 THEN target_ip END DESC,
         CASE WHEN :sort = 'events' AND :desc = 0 THEN events END ASC,
         CASE WHEN :sort = 'events' AND :desc = 1 THEN events END DESC,
         CASE WHEN :sort = 'accounts' AND :desc = 0 THEN accounts END ASC,
         CASE WHEN :sort = 'accounts' AND :desc = 1 THEN accounts END DESC,
         CASE WHEN :sort = 'clients' AND :desc = 0 THEN clients END ASC,
         CASE WHEN :sort = 'clients' AND :desc = 1 THEN clients END DESC,
         CASE WHEN :sort = 'ntlmv1_events' AND :desc = 0 THEN ntlmv1_events END ASC,
         CASE WHEN :sort = 'ntlmv1_events' AND :desc = 1 THEN ntlmv1_events END DESC,
         events DESC, target, target_service
LIMIT :limit OFFSET :offset;
