-- View `readiness`: for each target, whether NTLM can be blocked there: its dependencies, how
-- many were active in the 7 days up to the reference day (the end of the range, or today
-- when that is earlier), and for how many days it has been quiet (0: NTLM that day).
-- Common parameters of the views: :since, :until (day numbers, inclusive), :limit, :offset;
-- :q (a LIKE pattern, escaped by the caller) searched in the text columns; :sort (a column
-- name) and :desc (0 or 1); exact filters :client :account :domain :process :target
-- :service :reason_id :version ('' matches an absent value). Unset parameters are NULL.
-- _total (all rows before :limit and :offset) is read by the store and never shown.
-- Grouped by ns_dep_group (store/group.c; sql/dep_group_columns.sql), named after each
-- group's dependency with the lowest id; :whole = 1 when the range holds every stored day.
WITH ref AS (
    SELECT MIN(:until, CAST(strftime('%s', 'now') AS INTEGER) / 86400) AS day
),
v AS (
    SELECT n.target, g.active_dependencies, g.dependencies, g.clients, g.accounts, g.events,
           g.ntlmv1_events, g.last_seen,
           MAX(0, (SELECT day FROM ref) - g.last_day) AS quiet_days
    FROM ns_dep_group('target', :since, :until, :whole, (SELECT day FROM ref), :client,
                      :account, :domain, :process, :target, :service, :reason_id, :version) AS g
    JOIN dep AS n ON n.id = g.dep
    WHERE g.gkey IS NOT NULL
)
SELECT *, COUNT(*) OVER () AS _total
FROM v
WHERE (:q IS NULL OR target LIKE :q ESCAPE '\')
ORDER BY
         CASE WHEN :sort = 'target' AND :desc = 0 THEN target END ASC,
         CASE WHEN :sort = 'target' AND :desc = 1 THEN target END DESC,
         CASE WHEN :sort = 'active_dependencies' AND :desc = 0 THEN active_dependencies END ASC,
         CASE WHEN :sort = 'active_dependencies' AND :desc = 1 THEN active_dependencies END DESC,
         CASE WHEN :sort = 'dependencies' AND :desc = 0 THEN dependencies END ASC,
         CASE WHEN :sort = 'dependencies' AND :desc = 1 THEN dependencies END DESC,
         CASE WHEN :sort = 'clients' AND :desc = 0 THEN clients END ASC,
         CASE WHEN :sort = 'clients' AND :desc = 1 THEN clients END DESC,
         CASE WHEN :sort = 'accounts' AND :desc = 0 THEN accounts END ASC,
         CASE WHEN :sort = 'accounts' AND :desc = 1 THEN accounts END DESC,
         CASE WHEN :sort = 'events' AND :desc = 0 THEN events END ASC,
         CASE WHEN :sort = 'events' AND :desc = 1 THEN events END DESC,
         CASE WHEN :sort = 'ntlmv1_events' AND :desc = 0 THEN ntlmv1_events END ASC,
         CASE WHEN :sort = 'ntlmv1_events' AND :desc = 1 THEN ntlmv1_events END DESC,
         CASE WHEN :sort = 'last_seen' AND :desc = 0 THEN last_seen END ASC,
         CASE WHEN :sort = 'last_seen' AND :desc = 1 THEN last_seen END DESC,
         CASE WHEN :sort = 'quiet_days' AND :desc = 0 THEN quiet_days END ASC,
         CASE WHEN :sort = 'quiet_days' AND :desc = 1 THEN quiet_days END DESC,
         active_dependencies DESC, events DESC, target
LIMIT :limit OFFSET :offset;
