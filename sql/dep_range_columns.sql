-- The columns of the table-valued function ns_dep_range(since, until) (store/range.c): each
-- dependency's counters over the days since .. until; since and until are its arguments.
CREATE TABLE x(dep, events, ntlmv1_events, first_seen, last_seen, last_day,
               since HIDDEN, until HIDDEN)
