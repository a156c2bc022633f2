-- The id of a dependency, found through its unique key (the key columns compare without
-- case, as the key does).
SELECT id FROM dep
WHERE client = ?1 AND account = ?2 AND domain = ?3 AND process = ?4 AND target = ?5
  AND target_service = ?6 AND reason_id = ?7 AND ntlm_version = ?8;
