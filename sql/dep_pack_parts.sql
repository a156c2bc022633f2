-- A day's packs: how many parts, the last one's number, the entries of its whole pack (part
-- 0) and of the parts appended since (store/range.c).
SELECT COUNT(*), COALESCE(MAX(part), -1),
       COALESCE(SUM(CASE WHEN part = 0 THEN deps END), 0),
       COALESCE(SUM(CASE WHEN part > 0 THEN deps END), 0)
FROM dep_day_pack
WHERE day = ?1;
