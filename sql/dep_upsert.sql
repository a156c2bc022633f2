-- Finds or creates a dependency and returns its id (the no-op update makes RETURNING answer
-- for an existing one too). Its addresses are written with its totals (dep_total_add.sql).
INSERT INTO dep (client, account, domain, process, target, target_service, reason_id,
                 ntlm_version)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (client, account, domain, process, target, target_service, reason_id, ntlm_version)
DO UPDATE SET id = id
RETURNING id;
