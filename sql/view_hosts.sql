-- View `hosts`: the machines whose logs reached ntlmscope, their roles and last report.
-- Common parameters of the views: :since, :until (day numbers, inclusive), :limit, :offset;
-- :q (a LIKE pattern, escaped by the caller) searched in the text columns; :sort (a column
-- name) and :desc (0 or 1); exact filters :client :account :domain :process :target
-- :service :reason_id :version ('' matches an absent value). Unset parameters are NULL.
-- _total (all rows before :limit and :offset) is read by the store and never shown.
WITH whole AS MATERIALIZED (
    -- 1 when the range holds every stored day
    SELECT COALESCE((SELECT MIN(day) FROM host_daily) >= :since
                    AND (SELECT MAX(day) FROM host_daily) <= :until, 0) AS yes
),
h AS (
    -- every day: the running totals (sql/migrate_011_host_totals.sql) ...
    SELECT computer, role, events, first_seen, last_seen
    FROM host_total
    WHERE (SELECT yes FROM whole) = 1
    UNION ALL
    -- ... or the range's days (the guard is in the bound: tested once, not per row)
    SELECT computer, role, events, first_seen, last_seen
    FROM host_daily
    WHERE day BETWEEN :since
                  AND CASE WHEN (SELECT yes FROM whole) = 0 THEN :until ELSE :since - 1 END
),
v AS (
    -- (the computer is its name's str.id: sql/migrate_014_rollup_ids.sql)
    SELECT c.s AS computer,
           group_concat(DISTINCT h.role) AS roles,
           SUM(h.events) AS events,
           MIN(h.first_seen) AS first_seen,
           MAX(h.last_seen) AS last_seen
    FROM h
    JOIN str AS c ON c.id = h.computer
    WHERE (:computer IS NULL OR c.s = :computer COLLATE NOCASE)
    GROUP BY h.computer
)
SELECT *, COUNT(*) OVER () AS _total
FROM v
WHERE (:q IS NULL OR computer LIKE :q ESCAPE '\'
       OR roles LIKE :q ESCAPE '\')
ORDER BY
         CASE WHEN :sort = 'computer' AND :desc = 0 THEN computer END ASC,
         CASE WHEN :sort = 'computer' AND :desc = 1 THEN computer END DESC,
         CASE WHEN :sort = 'roles' AND :desc = 0 THEN roles END ASC,
         CASE WHEN :sort = 'roles' AND :desc = 1 THEN roles END DESC,
         CASE WHEN :sort = 'events' AND :desc = 0 THEN events END ASC,
         CASE WHEN :sort = 'events' AND :desc = 1 THEN events END DESC,
         CASE WHEN :sort = 'first_seen' AND :desc = 0 THEN first_seen END ASC,
         CASE WHEN :sort = 'first_seen' AND :desc = 1 THEN first_seen END DESC,
         CASE WHEN :sort = 'last_seen' AND :desc = 0 THEN last_seen END ASC,
         CASE WHEN :sort = 'last_seen' AND :desc = 1 THEN last_seen END DESC,
         last_seen DESC, computer
LIMIT :limit OFFSET :offset;
