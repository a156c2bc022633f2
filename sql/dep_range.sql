-- The range per dependency, prepended by the store to the views that declare it (so they
-- share one definition): r has the counters of each dependency over the range (integers
-- only), x adds the names and applies the common filters :client :account :domain :process
-- :target :service :reason_id :version ('' matches an absent value) and :v1_only (1 keeps
-- NTLMv1 and LM). When the range holds every day stored, r is the dependencies' running
-- totals (one row each); otherwise it sums their days. A view that uses it continues with
-- ", name AS (...)" or its SELECT.
WITH whole AS MATERIALIZED (
    -- 1 when the range holds every stored day
    SELECT COALESCE((SELECT MIN(day) FROM dep_daily) >= :since
                    AND (SELECT MAX(day) FROM dep_daily) <= :until, 0) AS yes
),
r AS MATERIALIZED (
    SELECT id AS dep, events, ntlmv1_events, first_seen, last_seen, last_day
    FROM dep
    WHERE (SELECT yes FROM whole) = 1 AND events > 0
    UNION ALL
    SELECT dep, SUM(events), SUM(ntlmv1_events), MIN(first_seen), MAX(last_seen), MAX(day)
    FROM dep_daily
    WHERE (SELECT yes FROM whole) = 0 AND day BETWEEN :since AND :until
    GROUP BY dep
),
x AS NOT MATERIALIZED (
    -- with the names, filtered
    SELECT p.client, p.account, p.domain, p.process, p.target, p.target_service, p.reason_id,
           p.ntlm_version, p.client_ip, p.target_ip, r.events, r.ntlmv1_events, r.first_seen,
           r.last_seen, r.last_day
    FROM r
    JOIN dep AS p ON p.id = r.dep
    WHERE (:client IS NULL OR p.client = :client)
      AND (:account IS NULL OR p.account = :account)
      AND (:domain IS NULL OR p.domain = :domain)
      AND (:process IS NULL OR p.process = :process)
      AND (:target IS NULL OR p.target = :target)
      AND (:service IS NULL OR p.target_service = :service)
      AND (:reason_id IS NULL OR p.reason_id = CASE WHEN :reason_id = '' THEN -1 ELSE :reason_id END)
      AND (:version IS NULL OR p.ntlm_version = :version)
      AND (:v1_only = 0 OR p.ntlm_version IN ('NTLMv1', 'LM'))
)
