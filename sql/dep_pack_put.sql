-- Stores (or replaces) a day's pack.
INSERT OR REPLACE INTO dep_day_pack (day, deps, pack) VALUES (?1, ?2, ?3);
