-- View `events` with a dependency filter (ends with sql/events_columns.sql): the raw events
-- behind the dependencies m that match :client :account :domain :process :target :service
-- :reason_id :version (as the rollups keep them: short upper-case host names or addresses,
-- names without case, '' for an absent value; a full DNS name matches its short name), in
-- a time range, oldest or (:desc = 1) newest first, through the index from a dependency to
-- its events; :computer keeps one reporting host. k is the page.
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
k AS (
    SELECT * FROM (
        SELECT v.time_created, v.computer, v.channel, v.record_id
        FROM m CROSS JOIN events AS v ON v.dep = m.id
        WHERE :desc = 0 AND v.time_created >= :since_us AND v.time_created < :until_us
          AND (:computer IS NULL OR v.computer IN h)
        ORDER BY v.time_created, v.computer, v.channel, v.record_id
        LIMIT :limit OFFSET :offset)
    UNION ALL
    SELECT * FROM (
        SELECT v.time_created, v.computer, v.channel, v.record_id
        FROM m CROSS JOIN events AS v ON v.dep = m.id
        WHERE :desc = 1 AND v.time_created >= :since_us AND v.time_created < :until_us
          AND (:computer IS NULL OR v.computer IN h)
        ORDER BY v.time_created DESC, v.computer DESC, v.channel DESC, v.record_id DESC
        LIMIT :limit OFFSET :offset)
)
