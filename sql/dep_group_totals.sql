-- What changes of each dependency, read again by ns_dep_group (store/group.c) whenever the
-- database changed, in ascending id: its running totals over every stored day and its last
-- addresses.
SELECT id, events, ntlmv1_events, first_seen, last_seen, last_day, client_ip, target_ip
FROM dep
ORDER BY id;
