-- Every agent that delivered events.
SELECT name, first_seen, last_seen, last_address, batches, events, duplicates
FROM agent
ORDER BY name;
