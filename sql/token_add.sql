-- Registers a new agent token (its hash only).
INSERT INTO token (name, hash, created) VALUES (?1, ?2, ?3);
