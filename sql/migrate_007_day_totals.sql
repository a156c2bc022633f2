-- Schema version 7: the counters of each day over every dependency, so the trend and the
-- weekly totals read one row per day instead of one per dependency and day.
CREATE TABLE day_total (
    day INTEGER PRIMARY KEY,              -- days since 1970-01-01 (UTC)
    events INTEGER NOT NULL,
    ntlmv1_events INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    blocked INTEGER NOT NULL
);

INSERT INTO day_total (day, events, ntlmv1_events, warnings, blocked)
SELECT day, SUM(events), SUM(ntlmv1_events), SUM(warnings), SUM(blocked)
FROM dep_daily
GROUP BY day;
