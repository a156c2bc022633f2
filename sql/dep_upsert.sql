-- Adds a batch's aggregate for one dependency and day to the rollup.
INSERT INTO dep_daily (day, client, account, domain, process, target, target_service, reason_id,
                       ntlm_version, client_ip, target_ip, events, ntlmv1_events, warnings,
                       blocked, first_seen, last_seen)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
ON CONFLICT (day, client, account, domain, process, target, target_service, reason_id,
             ntlm_version)
DO UPDATE SET client_ip = CASE WHEN excluded.client_ip <> '' THEN excluded.client_ip
                               ELSE client_ip END,
              target_ip = CASE WHEN excluded.target_ip <> '' THEN excluded.target_ip
                               ELSE target_ip END,
              events = events + excluded.events,
              ntlmv1_events = ntlmv1_events + excluded.ntlmv1_events,
              warnings = warnings + excluded.warnings,
              blocked = blocked + excluded.blocked,
              first_seen = min(first_seen, excluded.first_seen),
              last_seen = max(last_seen, excluded.last_seen);
