-- Schema version 2: agents and their tokens; each event records which agent delivered it.

-- The agent (token name) that delivered the event; NULL for local `ntlmscope ingest`.
ALTER TABLE events ADD COLUMN agent TEXT;

-- Bearer tokens of agents, stored only as SHA-256 hashes.
CREATE TABLE token (
    name TEXT PRIMARY KEY,          -- the agent's name
    hash TEXT NOT NULL UNIQUE,      -- hex SHA-256 of the token
    created INTEGER NOT NULL,       -- microseconds since 1970 UTC
    revoked INTEGER                 -- when it was revoked, NULL while valid
);

-- What each agent delivered, and when it last did.
CREATE TABLE agent (
    name TEXT PRIMARY KEY,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    last_address TEXT,
    batches INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0,     -- new events stored
    duplicates INTEGER NOT NULL DEFAULT 0
);
