-- The id of an interned string.
SELECT id FROM str WHERE s = ?1;
