-- The range per dependency, prepended by the store to the views that declare it (so they
-- share one definition): r sums the daily counters of each dependency (integers only),
-- x adds the names and applies the common filters :client :account :domain :process
-- :target :service :reason_id :version ('' matches an absent value) and :v1_only (1 keeps
-- NTLMv1 and LM). A view that uses it continues with ", name AS (...)" or its SELECT.
WITH r AS (
    -- the range, per dependency: integers only
    SELECT dep,
           SUM(events) AS events,
           SUM(ntlmv1_events) AS ntlmv1_events,
           MIN(first_seen) AS first_seen,
           MAX(last_seen) AS last_seen,
           MAX(day) AS last_day
    FROM dep_daily
    WHERE day BETWEEN :since AND :until
    GROUP BY dep
),
x AS (
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
