-- Every token with its agent's last delivery.
SELECT t.name, t.created, t.revoked, a.last_seen, a.last_address, a.batches, a.events
FROM token AS t
LEFT JOIN agent AS a ON a.name = t.name
ORDER BY t.name;
