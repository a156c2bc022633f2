-- Creates a dependency with the integer keys the grouping views use
-- (sql/migrate_010_group_keys.sql says what they are); its id is the connection's last rowid
-- (RETURNING would build a temporary table for each one). Nothing when it exists (no change:
-- the store then looks it up, store.c: upsert_dep). Its addresses are written with its
-- totals (dep_total_add.sql). Before schema 10 (an upgrade's copy of the events),
-- dep_insert.sql creates it without them.
INSERT INTO dep (client, account, domain, process, target, target_service, reason_id,
                 ntlm_version, akey, ckey, tkey, pkey)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
ON CONFLICT DO NOTHING;
