-- Revokes a token: refused from the next request on.
UPDATE token SET revoked = ?2 WHERE name = ?1 AND revoked IS NULL;
