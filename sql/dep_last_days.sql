-- The last day a dependency was seen, and the last with NTLMv1 or LM events (before the
-- batch adds its own).
SELECT last_day, last_v1_day FROM dep WHERE id = ?1;
