-- ntlmscope schema, version 1 (PRAGMA user_version = 1).
-- Raw events keep every canonical field (collector/ns_event.h, NS_FIELDS, in that order);
-- the daily rollups are kept current at ingest and are what the views read.

-- Every NTLM event, stored once per (computer, channel, record_id, time_created).
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    provider TEXT,
    event_id INTEGER NOT NULL,
    version INTEGER,
    level INTEGER,
    task INTEGER,
    opcode INTEGER,
    keywords TEXT,
    time_created INTEGER NOT NULL,
    record_id INTEGER NOT NULL,
    computer TEXT NOT NULL,
    exec_pid INTEGER,
    exec_tid INTEGER,
    user_sid TEXT,
    activity_id TEXT,
    role TEXT,
    outcome TEXT,
    account TEXT,
    account_domain TEXT,
    process_name TEXT,
    process_pid INTEGER,
    client_luid TEXT,
    process_user TEXT,
    process_domain TEXT,
    logon_type INTEGER,
    in_proc INTEGER,
    sign_on TEXT,
    reason_id INTEGER,
    reason_text TEXT,
    mechanism_oid TEXT,
    client_machine TEXT,
    client_ip TEXT,
    client_network_name TEXT,
    target_machine TEXT,
    target_domain TEXT,
    target_service TEXT,
    target_ip TEXT,
    target_network_name TEXT,
    server_name TEXT,
    server_domain TEXT,
    server_ip TEXT,
    server_os TEXT,
    farside_name TEXT,
    farside_domain TEXT,
    farside_ip TEXT,
    secure_channel_type INTEGER,
    ntlm_version TEXT,
    negotiated_flags TEXT,
    session_key TEXT,
    channel_binding TEXT,
    service_binding TEXT,
    mic TEXT,
    av_flags TEXT,
    av_flags_str TEXT,
    status TEXT,
    status_msg TEXT,
    negotiated_security TEXT,
    required_security TEXT,
    silo_name TEXT,
    policy_name TEXT,
    image_name TEXT,
    svchost_tag TEXT,
    message TEXT,
    extra TEXT
);
CREATE UNIQUE INDEX events_identity ON events (computer, channel, record_id, time_created);
CREATE INDEX events_time ON events (time_created);

-- One row per dependency per day: (client, account, process) -> (target, service) with its
-- reason and NTLM version. client and target are the short host name in upper case (or the
-- IP address when no name is known); names compare without case. Absent values are '' (or
-- -1 for reason_id) so the key is unique.
CREATE TABLE dep_daily (
    day INTEGER NOT NULL,                 -- days since 1970-01-01 (UTC)
    client TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    account TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    domain TEXT NOT NULL DEFAULT '' COLLATE NOCASE,     -- account domain
    process TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    target TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    target_service TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    reason_id INTEGER NOT NULL DEFAULT -1,
    ntlm_version TEXT NOT NULL DEFAULT '',
    client_ip TEXT NOT NULL DEFAULT '',   -- last address seen for the client
    target_ip TEXT NOT NULL DEFAULT '',   -- last address seen for the target
    events INTEGER NOT NULL,
    ntlmv1_events INTEGER NOT NULL,       -- NTLMv1 and LM
    warnings INTEGER NOT NULL,            -- level 3 (the warning twins, 4001-4025 warnings)
    blocked INTEGER NOT NULL,             -- outcome blocked
    first_seen INTEGER NOT NULL,          -- microseconds since 1970 UTC
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (day, client, account, domain, process, target, target_service, reason_id,
                 ntlm_version)
) WITHOUT ROWID;

-- One row per reporting host, role and day.
CREATE TABLE host_daily (
    day INTEGER NOT NULL,
    computer TEXT NOT NULL,
    role TEXT NOT NULL,
    events INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (day, computer, role)
) WITHOUT ROWID;

-- Usage reasons 0-11 with their remediation (filled from the catalogue at open).
CREATE TABLE reason (
    id INTEGER PRIMARY KEY,
    reason TEXT NOT NULL,
    remediation TEXT NOT NULL
);
