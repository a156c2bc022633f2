-- The packs of the days ?1 .. ?2, for ns_dep_range (store/range.c).
SELECT day, pack FROM dep_day_pack WHERE day BETWEEN ?1 AND ?2;
