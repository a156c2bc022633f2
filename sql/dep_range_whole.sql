-- The range per dependency when it holds every stored day: sql/dep_range_part.sql's u read
-- from the dependencies' running totals (one row each) instead of summing days. Same
-- columns; sql/dep_range_x.sql follows.
WITH u AS NOT MATERIALIZED (
    SELECT p.client, p.account, p.domain, p.process, p.target, p.target_service,
           p.reason_id, p.ntlm_version, p.client_ip, p.target_ip, p.events,
           p.ntlmv1_events, p.first_seen, p.last_seen, p.last_day
    FROM dep AS p
    WHERE p.events > 0
)
