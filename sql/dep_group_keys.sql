-- What ns_dep_group (store/group.c) keeps of each dependency and never changes, for those
-- with an id above ?1, in ascending id: its grouping keys (sql/migrate_010_group_keys.sql),
-- reason and service (folded by group.c, as the targets view groups it).
SELECT id, akey, ckey, tkey, pkey, reason_id, target_service
FROM dep
WHERE id > ?1
ORDER BY id;
