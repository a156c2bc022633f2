-- View `events` with a dependency filter (ends with sql/events_columns.sql): the raw events
-- behind the dependencies m that match :client :account :domain :process :target :service
-- :reason_id :version (as the rollups keep them: short upper-case host names or addresses,
-- names without case, '' for an absent value; a full DNS name matches its short name), in
-- a time range, oldest or (:desc = 1) newest first; :computer keeps one reporting host. The
-- index goes by day, then dependency, then time (schema 9), so this walks the range day by
-- day from the end the page starts at, counting, until the page is full, then reads just
-- those days. k is the page.
WITH m AS (
    SELECT id
    FROM dep AS p
    WHERE (:client IS NULL OR p.client = :client
           OR p.client = CASE WHEN instr(:client, '.') > 1
                              THEN substr(:client, 1, instr(:client, '.') - 1) END)
      AND (:account IS NULL OR p.account = :account)
      AND (:domain IS NULL OR p.domain = :domain)
      AND (:process IS NULL OR p.process = :process)
      AND (:target IS NULL OR p.target = :target
           OR p.target = CASE WHEN instr(:target, '.') > 1
                              THEN substr(:target, 1, instr(:target, '.') - 1) END)
      AND (:service IS NULL OR p.target_service = :service)
      AND (:reason_id IS NULL
           OR p.reason_id = CASE WHEN :reason_id = '' THEN -1 ELSE :reason_id END)
      AND (:version IS NULL OR p.ntlm_version = :version)
),
h AS (
    SELECT id FROM str WHERE :computer IS NOT NULL AND s = :computer COLLATE NOCASE
),
-- the first and last day of the range that hold events (days as the index counts them)
b AS MATERIALIZED (
    SELECT MAX(:since_us, (SELECT MIN(time_created) FROM events)) / 86400000000 AS lo,
           MIN(:until_us - 1, (SELECT MAX(time_created) FROM events)) / 86400000000 AS hi
),
-- from the end the page starts at: (day to count next, events counted before it)
walk(d, n) AS (
    SELECT CASE WHEN :desc = 1 THEN hi ELSE lo END, 0 FROM b WHERE lo <= hi
    UNION ALL
    SELECT CASE WHEN :desc = 1 THEN d - 1 ELSE d + 1 END,
           n + (SELECT COUNT(*) FROM m CROSS JOIN events AS v
                WHERE v.time_created / 86400000000 = walk.d AND v.dep = m.id
                  AND v.time_created >= :since_us AND v.time_created < :until_us
                  AND (:computer IS NULL OR v.computer IN h))
    FROM walk, b
    WHERE (:limit < 0 OR n < :limit + :offset) AND d BETWEEN b.lo AND b.hi
),
-- the days the page lies in
days AS (
    SELECT d FROM walk, b WHERE d BETWEEN b.lo AND b.hi
      AND d <> (SELECT CASE WHEN :desc = 1 THEN MIN(d) ELSE MAX(d) END FROM walk)
),
k AS (
    SELECT * FROM (
        SELECT v.time_created, v.computer, v.channel, v.record_id
        FROM days CROSS JOIN m CROSS JOIN events AS v
        WHERE v.time_created / 86400000000 = days.d AND v.dep = m.id
          AND :desc = 0 AND v.time_created >= :since_us AND v.time_created < :until_us
          AND (:computer IS NULL OR v.computer IN h)
        ORDER BY v.time_created, v.computer, v.channel, v.record_id
        LIMIT :limit OFFSET :offset)
    UNION ALL
    SELECT * FROM (
        SELECT v.time_created, v.computer, v.channel, v.record_id
        FROM days CROSS JOIN m CROSS JOIN events AS v
        WHERE v.time_created / 86400000000 = days.d AND v.dep = m.id
          AND :desc = 1 AND v.time_created >= :since_us AND v.time_created < :until_us
          AND (:computer IS NULL OR v.computer IN h)
        ORDER BY v.time_created DESC, v.computer DESC, v.channel DESC, v.record_id DESC
        LIMIT :limit OFFSET :offset)
)
