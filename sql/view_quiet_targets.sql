-- View `quiet_targets`: targets that had NTLM in the 7 days before :since and none from :since
-- to :until: they became safe to block. For the weekly summary.
WITH t AS (
    SELECT p.target,
           MAX(d.day) AS last_day,
           SUM(d.events) AS events,
           COUNT(DISTINCT NULLIF(p.client, '')) AS clients,
           MAX(d.last_seen) AS last_seen
    FROM dep_daily AS d
    JOIN dep AS p ON p.id = d.dep
    WHERE d.day BETWEEN :since - 7 AND :until AND p.target <> ''
    GROUP BY p.target
)
SELECT target, events AS last_week_events, clients AS last_week_clients, last_seen
FROM t
WHERE last_day < :since
ORDER BY last_week_events DESC, target
LIMIT :limit;
