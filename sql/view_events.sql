-- View `events` (ends with sql/events_columns.sql): the raw events of a time range, oldest
-- first or, with :desc = 1, newest first; :computer keeps one reporting host (no case). The
-- store uses view_events_dep.sql instead when a dependency filter is given. Each direction
-- is its own branch so the time order of the table serves it; k is the page.
WITH k AS (
    SELECT * FROM (
        SELECT time_created, computer, channel, record_id
        FROM events
        WHERE :desc = 0 AND time_created >= :since_us AND time_created < :until_us
          AND (:computer IS NULL
               OR computer IN (SELECT id FROM str WHERE s = :computer COLLATE NOCASE))
        ORDER BY time_created, computer, channel, record_id
        LIMIT :limit OFFSET :offset)
    UNION ALL
    SELECT * FROM (
        SELECT time_created, computer, channel, record_id
        FROM events
        WHERE :desc = 1 AND time_created >= :since_us AND time_created < :until_us
          AND (:computer IS NULL
               OR computer IN (SELECT id FROM str WHERE s = :computer COLLATE NOCASE))
        ORDER BY time_created DESC, computer DESC, channel DESC, record_id DESC
        LIMIT :limit OFFSET :offset)
)
