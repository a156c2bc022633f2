-- The columns of the table-valued function ns_dep_group(by, since, until, whole, ref, client,
-- account, domain, process, target, service, reason_id, version) (store/group.c): one row per
-- group of the range's dependencies. gkey is the group's (akey, pkey, ckey, tkey or
-- reason_id; NULL for an absent name), dep its dependency with the lowest id (whose names
-- the views show), client_ip and target_ip the largest of its dependencies', then its sums,
-- its dependencies (and those active in the 7 days up to ref), its distinct accounts,
-- clients and targets (akey, ckey, tkey), its first and last times and last day. The
-- arguments follow.
CREATE TABLE x(gkey, dep, client_ip, target_ip, events, ntlmv1_events, dependencies,
               active_dependencies, accounts, clients, targets, first_seen, last_seen,
               last_day, group_by HIDDEN, since HIDDEN, until HIDDEN, whole HIDDEN, ref HIDDEN,
               f_client HIDDEN, f_account HIDDEN, f_domain HIDDEN, f_process HIDDEN,
               f_target HIDDEN, f_service HIDDEN, f_reason_id HIDDEN, f_version HIDDEN)
