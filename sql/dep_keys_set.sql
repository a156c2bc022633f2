-- Sets the integer keys of a dependency just created (sql/migrate_010_group_keys.sql says
-- what they are); a dependency that has them keeps them.
UPDATE dep SET akey = ?2, ckey = ?3, tkey = ?4, pkey = ?5
WHERE id = ?1 AND akey IS NULL;
