-- Schema version 11: each reporting host's running totals per role over every stored day,
-- kept by ingest next to host_daily, so the hosts view over the whole range reads one row
-- per host and role instead of one per day.
CREATE TABLE host_total (
    computer TEXT NOT NULL,
    role TEXT NOT NULL,
    events INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (computer, role)
) WITHOUT ROWID;

INSERT INTO host_total (computer, role, events, first_seen, last_seen)
SELECT computer, role, SUM(events), MIN(first_seen), MAX(last_seen)
FROM host_daily
GROUP BY computer, role;
