-- The packs of the days ?1 .. ?2, every part, by day, for ns_dep_range (store/range.c).
SELECT day, pack FROM dep_day_pack WHERE day BETWEEN ?1 AND ?2 ORDER BY day, part;
