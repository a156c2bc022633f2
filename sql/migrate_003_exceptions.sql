-- Schema version 3: rollups for the enforcement exception lists, and the weekly summaries
-- already sent.

-- Per day, each server name as NTLM saw it, with who used it:
--   kind 'remote': a target that clients still reach with NTLM (client events), for
--                  "Restrict NTLM: Add remote server exceptions for NTLM authentication";
--   kind 'domain': a server the domain controllers still see NTLM for (DC events), for
--                  "Restrict NTLM: Add server exceptions in this domain".
CREATE TABLE exc_daily (
    day INTEGER NOT NULL,
    kind TEXT NOT NULL,                          -- 'remote' or 'domain'
    name TEXT NOT NULL COLLATE NOCASE,           -- server name as written in the events
    client TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    account TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    domain TEXT NOT NULL DEFAULT '' COLLATE NOCASE,
    events INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY (day, kind, name, client, account, domain)
) WITHOUT ROWID;

INSERT INTO exc_daily (day, kind, name, client, account, domain, events, first_seen, last_seen)
SELECT time_created / 86400000000,
       CASE role WHEN 'client' THEN 'remote' ELSE 'domain' END,
       CASE role WHEN 'client' THEN target_machine ELSE server_name END,
       COALESCE(client_machine, client_ip, ''), COALESCE(account, ''),
       COALESCE(account_domain, ''), COUNT(*), MIN(time_created), MAX(time_created)
FROM events
WHERE (role = 'client' AND target_machine IS NOT NULL)
   OR (role = 'dc' AND server_name IS NOT NULL)
GROUP BY time_created / 86400000000,
         CASE role WHEN 'client' THEN 'remote' ELSE 'domain' END,
         CASE role WHEN 'client' THEN target_machine ELSE server_name END COLLATE NOCASE,
         COALESCE(client_machine, client_ip, '') COLLATE NOCASE,
         COALESCE(account, '') COLLATE NOCASE,
         COALESCE(account_domain, '') COLLATE NOCASE;

-- Weekly summaries sent, so a restart never sends one twice.
CREATE TABLE summary_sent (
    week_ending INTEGER PRIMARY KEY,  -- day number of the last day of the week reported
    sent_at INTEGER NOT NULL,         -- microseconds since 1970 UTC
    recipients TEXT NOT NULL
);
