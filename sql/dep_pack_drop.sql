-- Forgets every part of a day's packs (before packing it whole again; ranges read the day's
-- rows of dep_daily while it has none).
DELETE FROM dep_day_pack WHERE day = ?1;
