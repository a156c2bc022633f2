-- The days ?1 .. ?2 that have dependency rows (each adds to its day's total), for
-- ns_dep_range: a day among them without a pack is read from dep_daily.
SELECT day FROM day_total WHERE day BETWEEN ?1 AND ?2 AND events > 0;
