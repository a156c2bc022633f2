-- Keeps the reason table equal to the catalogue compiled into the binary.
INSERT INTO reason (id, reason, remediation) VALUES (?1, ?2, ?3)
ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, remediation = excluded.remediation;
