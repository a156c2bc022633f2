-- The range per dependency when it is part of the stored days, prepended by the store to the
-- views that declare it (the dependencies and ntlmv1 views; sql/dep_range_whole.sql is the
-- same for every day stored, sql/range_whole.sql tells which applies). r has the counters of
-- each dependency summed over the days in range (store/range.c), u adds the names;
-- sql/dep_range_x.sql follows (x: u filtered).
WITH r AS NOT MATERIALIZED (
    SELECT dep, events, ntlmv1_events, first_seen, last_seen, last_day
    FROM ns_dep_range(:since, :until)
),
u AS NOT MATERIALIZED (
    SELECT p.client, p.account, p.domain, p.process, p.target, p.target_service,
           p.reason_id, p.ntlm_version, p.client_ip, p.target_ip, r.events,
           r.ntlmv1_events, r.first_seen, r.last_seen, r.last_day
    FROM r
    JOIN dep AS p ON p.id = r.dep
)
