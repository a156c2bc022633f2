-- Schema version 4: dependencies become a dimension with integer ids, and the daily rollup
-- counts per (day, dependency id): views aggregate integers and join the names only for the
-- rows they show.

-- One row per dependency: (client, account, process) -> (target, service), reason, version.
-- client and target are short upper-case host names or addresses; names compare without
-- case; absent values are '' (reason_id -1).
CREATE TABLE dep (
    id INTEGER PRIMARY KEY,
    client TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    account TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    domain TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    process TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    target TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    target_service TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    reason_id INTEGER NOT NULL DEFAULT -1,
    ntlm_version TEXT NOT NULL DEFAULT '',
    client_ip TEXT NOT NULL DEFAULT '',   -- last address seen for the client
    target_ip TEXT NOT NULL DEFAULT '',   -- last address seen for the target
    UNIQUE (client, account, domain, process, target, target_service, reason_id, ntlm_version)
);
CREATE INDEX dep_target ON dep (target);
CREATE INDEX dep_account ON dep (account);

INSERT INTO dep (client, account, domain, process, target, target_service, reason_id, ntlm_version, client_ip, target_ip)
SELECT client, account, domain, process, target, target_service, reason_id, ntlm_version, MAX(client_ip), MAX(target_ip)
FROM dep_daily
GROUP BY client, account, domain, process, target, target_service, reason_id, ntlm_version;

ALTER TABLE dep_daily RENAME TO dep_daily_v3;

-- Per day and dependency: the counters.
CREATE TABLE dep_daily (
    day INTEGER NOT NULL,          -- days since 1970-01-01 (UTC)
    dep INTEGER NOT NULL,          -- dep.id
    events INTEGER NOT NULL,
    ntlmv1_events INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    blocked INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (day, dep)
) WITHOUT ROWID;

INSERT INTO dep_daily (day, dep, events, ntlmv1_events, warnings, blocked, first_seen, last_seen)
SELECT o.day, d.id, SUM(o.events), SUM(o.ntlmv1_events), SUM(o.warnings), SUM(o.blocked),
       MIN(o.first_seen), MAX(o.last_seen)
FROM dep_daily_v3 AS o
JOIN dep AS d ON d.client = o.client AND d.account = o.account AND d.domain = o.domain
             AND d.process = o.process AND d.target = o.target
             AND d.target_service = o.target_service AND d.reason_id = o.reason_id
             AND d.ntlm_version = o.ntlm_version
GROUP BY o.day, d.id;

DROP TABLE dep_daily_v3;
