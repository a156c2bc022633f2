-- Changes whenever another connection commits: ns_dep_range's cache of its last answer is
-- valid while it and this connection's own change count stay the same.
PRAGMA data_version;
