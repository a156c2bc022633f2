-- What ns_dep_group (store/group.c) keeps of each dependency and never changes, for those
-- with an id above ?1, in ascending id: its grouping keys (sql/migrate_010_group_keys.sql),
-- reason and names, in the order of group.c's enum dep_text.
SELECT id, akey, ckey, tkey, pkey, reason_id, client, account, domain, process, target,
       target_service, ntlm_version
FROM dep
WHERE id > ?1
ORDER BY id;
