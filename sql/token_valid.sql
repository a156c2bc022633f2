-- The hashes of the tokens still valid (compared in constant time by the caller).
SELECT name, hash FROM token WHERE revoked IS NULL;
