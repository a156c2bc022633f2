-- Schema version 14: each dependency's running totals and latest addresses move from dep to
-- a narrow table of their own. Every batch rewrites them for most dependencies it saw; in
-- dep's rows, beside the names, that rewrote about three times the pages (and the WAL the
-- commit writes). dep keeps the names and the grouping keys; a dependency without events has
-- no row here.
CREATE TABLE dep_sum (
    id INTEGER PRIMARY KEY,             -- dep.id
    events INTEGER NOT NULL,
    ntlmv1_events INTEGER NOT NULL,     -- NTLMv1 and LM
    first_seen INTEGER NOT NULL,        -- microseconds since 1970 UTC
    last_seen INTEGER NOT NULL,
    last_day INTEGER NOT NULL,          -- day number of last_seen
    last_v1_day INTEGER,                -- the last day with NTLMv1 or LM events
    client_ip TEXT NOT NULL DEFAULT '', -- last address seen for the client
    target_ip TEXT NOT NULL DEFAULT ''  -- last address seen for the target
);

INSERT INTO dep_sum (id, events, ntlmv1_events, first_seen, last_seen, last_day, last_v1_day,
                     client_ip, target_ip)
SELECT id, events, ntlmv1_events, first_seen, last_seen, last_day, last_v1_day, client_ip,
       target_ip
FROM dep
WHERE events > 0;

ALTER TABLE dep DROP COLUMN events;
ALTER TABLE dep DROP COLUMN ntlmv1_events;
ALTER TABLE dep DROP COLUMN first_seen;
ALTER TABLE dep DROP COLUMN last_seen;
ALTER TABLE dep DROP COLUMN last_day;
ALTER TABLE dep DROP COLUMN last_v1_day;
ALTER TABLE dep DROP COLUMN client_ip;
ALTER TABLE dep DROP COLUMN target_ip;
