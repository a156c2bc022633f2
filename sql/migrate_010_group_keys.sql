-- Schema version 10: integer keys of a dependency's names, case folded, so the views that
-- group dependencies (accounts, processes, targets, clients, readiness, reasons) group and
-- count distinct values on integers instead of comparing text without case. Each key is the
-- str.id of the folded text: account and domain as lower(account) || char(31) ||
-- lower(domain); client, target and process as lower(name), NULL when the name is absent.
-- Ingest sets them when it creates a dependency (sql/dep_keys_set.sql).
ALTER TABLE dep ADD COLUMN akey INTEGER;
ALTER TABLE dep ADD COLUMN ckey INTEGER;
ALTER TABLE dep ADD COLUMN tkey INTEGER;
ALTER TABLE dep ADD COLUMN pkey INTEGER;

INSERT OR IGNORE INTO str (s)
SELECT lower(account) || char(31) || lower(domain) FROM dep
UNION SELECT lower(client) FROM dep WHERE client <> ''
UNION SELECT lower(target) FROM dep WHERE target <> ''
UNION SELECT lower(process) FROM dep WHERE process <> '';

UPDATE dep
SET akey = (SELECT id FROM str WHERE s = lower(dep.account) || char(31) || lower(dep.domain)),
    ckey = (SELECT id FROM str WHERE dep.client <> '' AND s = lower(dep.client)),
    tkey = (SELECT id FROM str WHERE dep.target <> '' AND s = lower(dep.target)),
    pkey = (SELECT id FROM str WHERE dep.process <> '' AND s = lower(dep.process));
