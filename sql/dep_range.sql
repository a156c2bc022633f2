-- The range per dependency, prepended by the store to the views that declare it (so they
-- share one definition): r has the counters of each dependency over the range (integers
-- only), x adds the names and applies the common filters :client :account :domain :process
-- :target :service :reason_id :version ('' matches an absent value) and :v1_only (1 keeps
-- NTLMv1 and LM). When the range holds every day stored, x reads the dependencies' running
-- totals (one row each); otherwise r sums their days in the range. A view that uses it
-- continues with ", name AS (...)" or its SELECT.
WITH whole AS MATERIALIZED (
    -- 1 when the range holds every stored day
    SELECT COALESCE((SELECT MIN(day) FROM dep_daily) >= :since
                    AND (SELECT MAX(day) FROM dep_daily) <= :until, 0) AS yes
),
r AS NOT MATERIALIZED (
    -- a partial range: each dependency's days in it, summed (store/range.c; the guard is in
    -- the bound, an empty range when every day is asked for)
    SELECT dep, events, ntlmv1_events, first_seen, last_seen, last_day
    FROM ns_dep_range(:since,
                      CASE WHEN (SELECT yes FROM whole) = 0 THEN :until ELSE :since - 1 END)
),
x AS NOT MATERIALIZED (
    -- with the names, filtered (SQLite pushes the filters into both arms)
    SELECT *
    FROM (
        -- every day: the running totals, one read of dep ...
        SELECT p.client, p.account, p.domain, p.process, p.target, p.target_service,
               p.reason_id, p.ntlm_version, p.client_ip, p.target_ip, p.events,
               p.ntlmv1_events, p.first_seen, p.last_seen, p.last_day, p.akey, p.ckey, p.tkey,
               p.pkey
        FROM dep AS p
        WHERE p.id BETWEEN 1 AND CASE WHEN (SELECT yes FROM whole) = 1
                                      THEN 9223372036854775807 ELSE 0 END
          AND p.events > 0
        UNION ALL
        -- ... or the range's sums
        SELECT p.client, p.account, p.domain, p.process, p.target, p.target_service,
               p.reason_id, p.ntlm_version, p.client_ip, p.target_ip, r.events,
               r.ntlmv1_events, r.first_seen, r.last_seen, r.last_day, p.akey, p.ckey, p.tkey,
               p.pkey
        FROM r
        JOIN dep AS p ON p.id = r.dep
    ) AS u
    WHERE (:client IS NULL OR u.client = :client)
      AND (:account IS NULL OR u.account = :account)
      AND (:domain IS NULL OR u.domain = :domain)
      AND (:process IS NULL OR u.process = :process)
      AND (:target IS NULL OR u.target = :target)
      AND (:service IS NULL OR u.target_service = :service)
      AND (:reason_id IS NULL
           OR u.reason_id = CASE WHEN :reason_id = '' THEN -1 ELSE :reason_id END)
      AND (:version IS NULL OR u.ntlm_version = :version)
      AND (:v1_only = 0 OR u.ntlm_version IN ('NTLMv1', 'LM'))
)
