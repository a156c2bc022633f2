-- Run on every open, before migrations.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA temp_store = MEMORY;
-- 12 MB of pages: a batch's index and rollup pages stay in memory (ingest's peak RSS stays
-- under 64 MB with it).
PRAGMA cache_size = -12000;
-- Checkpoint every 8000 pages (32 MB of WAL) rather than 1000: pages rewritten by several
-- batches are copied back once.
PRAGMA wal_autocheckpoint = 8000;
