-- Schema version 14: the exception-list and host rollups keyed by interned ids (table str)
-- instead of their texts. Ingest rewrote every batch's rows of them, and their text keys were
-- compared without case at each step of their B-trees: they cost ingest about as much as the
-- dependencies' rollups (store/store.c).
--
-- exc_daily's names compare without case, as before: its keys are the ids of the names folded
-- to lower case (ASCII, as SQL's lower() and NOCASE), the account with its domain as one key
-- (as dep.akey); 0 stands for an absent client or account. spelled keeps the name as written
-- in the first event of the row (the views show a server as its earliest row spells it).
-- host_daily and host_total key the computer by the id of its exact name, as it was compared.

INSERT OR IGNORE INTO str (s)
SELECT 'remote' UNION ALL SELECT 'domain'
UNION ALL SELECT DISTINCT name FROM exc_daily
UNION ALL SELECT DISTINCT lower(name) FROM exc_daily
UNION ALL SELECT DISTINCT lower(client) FROM exc_daily WHERE client <> ''
UNION ALL SELECT DISTINCT lower(account) || char(31) || lower(domain) FROM exc_daily
          WHERE account <> '' OR domain <> ''
UNION ALL SELECT DISTINCT computer FROM host_total
UNION ALL SELECT DISTINCT computer FROM host_daily;

CREATE TABLE exc_daily_14 (
    day INTEGER NOT NULL,
    kind INTEGER NOT NULL,       -- str.id of 'remote' or 'domain'
    name INTEGER NOT NULL,       -- str.id of the server name folded to lower case
    client INTEGER NOT NULL,     -- str.id of the client folded, 0 when none
    account INTEGER NOT NULL,    -- str.id of account || char(31) || domain folded, 0 when none
    events INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    spelled INTEGER NOT NULL,    -- str.id of the server name as written
    PRIMARY KEY (day, kind, name, client, account)
) WITHOUT ROWID;

INSERT INTO exc_daily_14 (day, kind, name, client, account, events, first_seen, last_seen,
                          spelled)
SELECT e.day, k.id, n.id,
       CASE WHEN e.client = '' THEN 0
            ELSE (SELECT id FROM str WHERE s = lower(e.client)) END,
       CASE WHEN e.account = '' AND e.domain = '' THEN 0
            ELSE (SELECT id FROM str WHERE s = lower(e.account) || char(31) || lower(e.domain))
       END,
       e.events, e.first_seen, e.last_seen, w.id
FROM exc_daily AS e
JOIN str AS k ON k.s = e.kind
JOIN str AS n ON n.s = lower(e.name)
JOIN str AS w ON w.s = e.name
WHERE true
ON CONFLICT (day, kind, name, client, account)
DO UPDATE SET events = events + excluded.events,
              first_seen = min(first_seen, excluded.first_seen),
              last_seen = max(last_seen, excluded.last_seen),
              spelled = min(spelled, excluded.spelled);

DROP TABLE exc_daily;
ALTER TABLE exc_daily_14 RENAME TO exc_daily;

CREATE TABLE host_daily_14 (
    day INTEGER NOT NULL,
    computer INTEGER NOT NULL,   -- str.id of the computer's name
    role TEXT NOT NULL,
    events INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (day, computer, role)
) WITHOUT ROWID;

INSERT INTO host_daily_14 (day, computer, role, events, first_seen, last_seen)
SELECT h.day, c.id, h.role, h.events, h.first_seen, h.last_seen
FROM host_daily AS h
JOIN str AS c ON c.s = h.computer;

DROP TABLE host_daily;
ALTER TABLE host_daily_14 RENAME TO host_daily;

CREATE TABLE host_total_14 (
    computer INTEGER NOT NULL,   -- str.id of the computer's name
    role TEXT NOT NULL,
    events INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (computer, role)
) WITHOUT ROWID;

INSERT INTO host_total_14 (computer, role, events, first_seen, last_seen)
SELECT c.id, h.role, h.events, h.first_seen, h.last_seen
FROM host_total AS h
JOIN str AS c ON c.s = h.computer;

DROP TABLE host_total;
ALTER TABLE host_total_14 RENAME TO host_total;
