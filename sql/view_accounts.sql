-- View `accounts`: who authenticates with NTLM, with how many clients and targets.
-- Common parameters of the views: :since, :until (day numbers, inclusive), :limit, :offset;
-- :q (a LIKE pattern, escaped by the caller) searched in the text columns; :sort (a column
-- name) and :desc (0 or 1); exact filters :client :account :domain :process :target
-- :service :reason_id :version ('' matches an absent value). Unset parameters are NULL.
-- _total (all rows before :limit and :offset) is read by the store and never shown.
-- Grouped by ns_dep_group (store/group.c; sql/dep_group_columns.sql), named after each
-- group's dependency with the lowest id; :whole = 1 when the range holds every stored day.
WITH v AS (
    SELECT NULLIF(n.account, '') AS account,
           NULLIF(n.domain, '') AS domain,
           g.events, g.ntlmv1_events, g.clients, g.targets, g.first_seen, g.last_seen
    FROM ns_dep_group('account', :since, :until, :whole, NULL, :client, :account, :domain,
                      :process, :target, :service, :reason_id, :version) AS g
    JOIN dep AS n ON n.id = g.dep
)
SELECT *, COUNT(*) OVER () AS _total
FROM v
WHERE (:q IS NULL OR account LIKE :q ESCAPE '\'
       OR domain LIKE :q ESCAPE '\')
ORDER BY
         CASE WHEN :sort = 'account' AND :desc = 0 THEN account END ASC,
         CASE WHEN :sort = 'account' AND :desc = 1 THEN account END DESC,
         CASE WHEN :sort = 'domain' AND :desc = 0 THEN domain END ASC,
         CASE WHEN :sort = 'domain' AND :desc = 1 THEN domain END DESC,
         CASE WHEN :sort = 'events' AND :desc = 0 THEN events END ASC,
         CASE WHEN :sort = 'events' AND :desc = 1 THEN events END DESC,
         CASE WHEN :sort = 'ntlmv1_events' AND :desc = 0 THEN ntlmv1_events END ASC,
         CASE WHEN :sort = 'ntlmv1_events' AND :desc = 1 THEN ntlmv1_events END DESC,
         CASE WHEN :sort = 'clients' AND :desc = 0 THEN clients END ASC,
         CASE WHEN :sort = 'clients' AND :desc = 1 THEN clients END DESC,
         CASE WHEN :sort = 'targets' AND :desc = 0 THEN targets END ASC,
         CASE WHEN :sort = 'targets' AND :desc = 1 THEN targets END DESC,
         CASE WHEN :sort = 'first_seen' AND :desc = 0 THEN first_seen END ASC,
         CASE WHEN :sort = 'first_seen' AND :desc = 1 THEN first_seen END DESC,
         CASE WHEN :sort = 'last_seen' AND :desc = 0 THEN last_seen END ASC,
         CASE WHEN :sort = 'last_seen' AND :desc = 1 THEN last_seen END DESC,
         events DESC, account, domain
LIMIT :limit OFFSET :offset;
