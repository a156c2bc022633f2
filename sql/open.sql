-- Run on every open, before migrations.
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA temp_store = MEMORY;
-- 12 MB of pages: a batch's index and rollup pages stay in memory (ingest's peak RSS stays
-- under 64 MB with it).
PRAGMA cache_size = -12000;
-- Checkpoint every 32000 pages (128 MB of WAL) rather than 1000: pages rewritten by several
-- batches (the rollups' and dependencies' pages, rewritten by every batch) are copied back
-- once. 1 M events: 290 MB of checkpoint writes with 8000, 214 MB with 32000. Once open, a
-- writer's checkpoints run on a thread of their own instead (store/checkpoint.c).
PRAGMA wal_autocheckpoint = 32000;
