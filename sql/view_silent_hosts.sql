-- View `silent_hosts`: reporting hosts that sent events in the 7 days before :since and none
-- from :since to :until. For the weekly summary.
WITH h AS (
    SELECT computer,
           MAX(day) AS last_day,
           group_concat(DISTINCT role) AS roles,
           MAX(last_seen) AS last_seen
    FROM host_daily
    WHERE day BETWEEN :since - 7 AND :until
    GROUP BY computer
)
SELECT computer, roles, last_seen
FROM h
WHERE last_day < :since
ORDER BY last_seen DESC, computer
LIMIT :limit;
