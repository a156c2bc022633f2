-- 1 when the days :since .. :until hold every stored day: the views over dependencies then
-- read their running totals (sql/dep_range_whole.sql), else they sum the range's days
-- (sql/dep_range_part.sql). Read in the same transaction as the view.
SELECT COALESCE((SELECT MIN(day) FROM dep_daily) >= :since
                AND (SELECT MAX(day) FROM dep_daily) <= :until, 0);
