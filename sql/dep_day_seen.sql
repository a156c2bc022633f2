-- 1 when a dependency was seen on a day (?3 = 1: with NTLMv1 or LM events).
SELECT 1 FROM dep_daily WHERE day = ?1 AND dep = ?2 AND (?3 = 0 OR ntlmv1_events > 0);
