-- The dependencies ns_dep_group (store/group.c) groups when a view has dependency filters,
-- in ascending id: ?1 .. ?8 are :client :account :domain :process :target :service
-- :reason_id :version as sql/dep_range_x.sql compares them (NULL: no filter; '' matches an
-- absent value).
SELECT id
FROM dep
WHERE (?1 IS NULL OR client = ?1)
  AND (?2 IS NULL OR account = ?2)
  AND (?3 IS NULL OR domain = ?3)
  AND (?4 IS NULL OR process = ?4)
  AND (?5 IS NULL OR target = ?5)
  AND (?6 IS NULL OR target_service = ?6)
  AND (?7 IS NULL OR reason_id = CASE WHEN ?7 = '' THEN -1 ELSE ?7 END)
  AND (?8 IS NULL OR ntlm_version = ?8)
ORDER BY id;
