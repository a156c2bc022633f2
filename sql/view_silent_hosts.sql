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
SELECT c.s AS computer, h.roles, h.last_seen
FROM h
JOIN str AS c ON c.id = h.computer
WHERE h.last_day < :since
ORDER BY h.last_seen DESC, c.s
LIMIT :limit;
