-- Stores a part of a day's packs (store/range.c).
INSERT INTO dep_day_pack (day, part, deps, pack) VALUES (?1, ?2, ?3, ?4);
