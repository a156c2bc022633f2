-- Creates a dependency; its id is the connection's last rowid. Nothing when it exists (no
-- change: the store then looks it up). Its addresses are written with its totals
-- (dep_total_add.sql).
INSERT INTO dep (client, account, domain, process, target, target_service, reason_id,
                 ntlm_version)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT DO NOTHING;
