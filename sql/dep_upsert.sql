-- Finds or creates a dependency and returns its id; the addresses are attributes: the latest
-- non-empty one is kept.
INSERT INTO dep (client, account, domain, process, target, target_service, reason_id,
                 ntlm_version, client_ip, target_ip)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (client, account, domain, process, target, target_service, reason_id, ntlm_version)
DO UPDATE SET client_ip = CASE WHEN excluded.client_ip <> '' THEN excluded.client_ip
                               ELSE client_ip END,
              target_ip = CASE WHEN excluded.target_ip <> '' THEN excluded.target_ip
                               ELSE target_ip END
RETURNING id;
