-- Changes whenever another connection commits: ns_dep_range's cache of its last answer is
-- valid while it and this connection's own change count stay the same, and a writer's cache
-- of dependencies' last days while it stays the same between its batches.
PRAGMA data_version;
