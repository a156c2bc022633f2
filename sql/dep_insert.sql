-- Creates a dependency (dep_find.sql found none); its id is the connection's last rowid.
-- Its addresses are written with its totals (dep_total_add.sql).
INSERT INTO dep (client, account, domain, process, target, target_service, reason_id,
                 ntlm_version)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);
