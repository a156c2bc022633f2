-- Forgets a day's pack (ranges then read the day's rows of dep_daily).
DELETE FROM dep_day_pack WHERE day = ?1;
