-- View `processes`: which programs use NTLM, for how many accounts on how many hosts.
-- Common parameters of the views: :since, :until (day numbers, inclusive), :limit, :offset;
-- :q (a LIKE pattern, escaped by the caller) searched in the text columns; :sort (a column
-- name) and :desc (0 or 1); exact filters :client :account :domain :process :target
-- :service :reason_id :version ('' matches an absent value). Unset parameters are NULL.
-- _total (all rows before :limit and :offset) is read by the store and never shown.
-- Grouped by ns_dep_group (store/group.c; sql/dep_group_columns.sql), named after each
-- group's dependency with the lowest id; :whole = 1 when the range holds every stored day.
WITH v AS (
    SELECT NULLIF(n.process, '') AS process,
           g.events, g.accounts, g.clients AS hosts, g.ntlmv1_events
    FROM ns_dep_group('process', :since, :until, :whole, NULL, :client, :account, :domain,
                      :process, :target, :service, :reason_id, :version) AS g
    JOIN dep AS n ON n.id = g.dep
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
