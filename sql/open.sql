-- Run on every open, before migrations.
-- 16 KB pages for a new database (an existing one keeps its own): 1 M events ingested with
-- 4 KB pages took 9.5-10.9 s of the store thread's CPU, with 16 KB 8.5-9.8 s (means 10.1 and
-- 9.3), the same size on disk, the views as fast (docs/performance.md). Set before WAL,
-- which fixes the page size.
PRAGMA page_size = 16384;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA temp_store = MEMORY;
-- 12 MB of pages (a size in KB: whatever the page size): a batch's index and rollup pages stay
-- in memory (ingest's peak RSS stays under 64 MB with it).
PRAGMA cache_size = -12000;
-- Checkpoint every 32000 pages (128 MB of WAL) rather than 1000: pages rewritten by several
-- batches (the rollups' and dependencies' pages, rewritten by every batch) are copied back
-- once. 1 M events: 290 MB of checkpoint writes with 8000, 214 MB with 32000. Once open, a
-- writer's checkpoints run on a thread of their own instead (store/checkpoint.c), at sizes in
-- bytes whatever the page size; this one only applies while an existing database (with its
-- own page size, 4 KB before 16 KB became the default) migrates.
PRAGMA wal_autocheckpoint = 32000;
