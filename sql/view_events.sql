-- View `events`: every canonical field of the raw events in a time range. The filters of a
-- dependency row select the events behind it: client and target match the short host name
-- (what the rollups keep) or the address; names compare without case; '' is an absent value.
SELECT channel,
       provider,
       event_id,
       version,
       level,
       task,
       opcode,
       keywords,
       time_created,
       record_id,
       computer,
       exec_pid,
       exec_tid,
       user_sid,
       activity_id,
       role,
       outcome,
       account,
       account_domain,
       process_name,
       process_pid,
       client_luid,
       process_user,
       process_domain,
       logon_type,
       in_proc,
       sign_on,
       reason_id,
       reason_text,
       mechanism_oid,
       client_machine,
       client_ip,
       client_network_name,
       target_machine,
       target_domain,
       target_service,
       target_ip,
       target_network_name,
       server_name,
       server_domain,
       server_ip,
       server_os,
       farside_name,
       farside_domain,
       farside_ip,
       secure_channel_type,
       ntlm_version,
       negotiated_flags,
       session_key,
       channel_binding,
       service_binding,
       mic,
       av_flags,
       av_flags_str,
       status,
       status_msg,
       negotiated_security,
       required_security,
       silo_name,
       policy_name,
       image_name,
       svchost_tag,
       message,
       extra
FROM events
WHERE time_created >= :since_us AND time_created < :until_us
  AND (:client IS NULL
       OR upper(CASE WHEN instr(client_machine, '.') > 0
                     THEN substr(client_machine, 1, instr(client_machine, '.') - 1)
                     ELSE client_machine END) = upper(:client)
       OR client_machine = :client OR client_ip = :client
       OR (:client = '' AND client_machine IS NULL AND client_ip IS NULL))
  AND (:target IS NULL
       OR upper(CASE WHEN instr(target_machine, '.') > 0
                     THEN substr(target_machine, 1, instr(target_machine, '.') - 1)
                     ELSE target_machine END) = upper(:target)
       OR target_machine = :target OR target_ip = :target
       OR (:target = '' AND target_machine IS NULL AND target_ip IS NULL))
  AND (:account IS NULL OR COALESCE(account, '') = :account COLLATE NOCASE)
  AND (:domain IS NULL OR COALESCE(account_domain, '') = :domain COLLATE NOCASE)
  AND (:process IS NULL OR COALESCE(process_name, '') = :process COLLATE NOCASE)
  AND (:service IS NULL OR COALESCE(target_service, '') = :service COLLATE NOCASE)
  AND (:reason_id IS NULL OR COALESCE(reason_id, -1) = CAST(:reason_id AS INTEGER)
       OR (:reason_id = '' AND reason_id IS NULL))
  AND (:version IS NULL OR COALESCE(ntlm_version, '') = :version)
  AND (:computer IS NULL OR computer = :computer COLLATE NOCASE)
ORDER BY CASE WHEN :desc = 1 THEN -time_created ELSE time_created END, computer, record_id
LIMIT :limit OFFSET :offset;
