-- Follows sql/dep_range_x.sql in place of sql/dep_range_all.sql for the views whose :q (a
-- LIKE pattern, escaped by the caller) searches their dependencies' text columns: x is the
-- dependencies of xf that match, found once (a view reads x twice: its page and _total; at
-- 10 M events the dependencies search went 120 -> 37 ms).
,
x AS MATERIALIZED (
    SELECT *
    FROM xf
    WHERE client LIKE :q ESCAPE '\'
       OR client_ip LIKE :q ESCAPE '\'
       OR account LIKE :q ESCAPE '\'
       OR domain LIKE :q ESCAPE '\'
       OR process LIKE :q ESCAPE '\'
       OR target LIKE :q ESCAPE '\'
       OR target_service LIKE :q ESCAPE '\'
       OR target_ip LIKE :q ESCAPE '\'
       OR ntlm_version LIKE :q ESCAPE '\'
)
