-- The largest dependency id (ns_dep_range sizes its array with it).
SELECT COALESCE(MAX(id), 0) FROM dep;
