-- Every day dep_daily holds, for the schema-12 upgrade (packing each).
SELECT DISTINCT day FROM dep_daily ORDER BY day;
