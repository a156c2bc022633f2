-- View `quiet_targets`: targets that had NTLM in the 7 days before :since and none from :since
-- to :until: they became safe to block. For the weekly summary.
WITH t AS (
    SELECT target,
           MAX(day) AS last_day,
           SUM(events) AS events,
           COUNT(DISTINCT NULLIF(client, '')) AS clients,
           MAX(last_seen) AS last_seen
    FROM dep_daily
    WHERE day BETWEEN :since - 7 AND :until AND target <> ''
    GROUP BY target
)
SELECT target, events AS last_week_events, clients AS last_week_clients, last_seen
FROM t
WHERE last_day < :since
ORDER BY last_week_events DESC, target
LIMIT :limit;
