-- How many parts a day's packs have, and the last one's number (store/range.c).
SELECT COUNT(*), COALESCE(MAX(part), -1) FROM dep_day_pack WHERE day = ?1;
