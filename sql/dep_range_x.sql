-- Follows sql/dep_range_part.sql or sql/dep_range_whole.sql: xf is u with the common filters
-- :client :account :domain :process :target :service :reason_id :version ('' matches an
-- absent value) and :v1_only (1 keeps NTLMv1 and LM). Then sql/dep_range_all.sql, or
-- sql/dep_range_search.sql for a view that searches its dependencies, makes x of it; a view
-- that uses x continues with ", name AS (...)" or its SELECT.
,
xf AS NOT MATERIALIZED (
    SELECT *
    FROM u
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
