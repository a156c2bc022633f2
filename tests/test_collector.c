/*
 * test_collector.c - parsers and normalizer: every event ID of ntlm-events.md under both
 * renderings of its fields, every input shape (XML with and without root, UTF-16 with BOM,
 * CRLF, JSON object/array/lines, EVTX), bad input (truncated, malformed, hostile, XXE).
 */
#include <stdio.h>

#include <jansson.h>

#include "testutil.h"

#ifndef NS_TEST_DATA
#error NS_TEST_DATA must name tests/data
#endif

/* ========================================================================================== */
/* Conversions                                                                                 */
/* ========================================================================================== */

/* Every canonical field is found by its name, and nothing else is (store and JSON reader). */
static void test_field_by_name(void **state)
{
    static const char *const others[] = {"",       "agent",    "Account", "account ",
                                         "accoun", "accountx", "extra2",  "client-ip"};
    (void)state;
    for (int f = 0; f < NS_F_COUNT; f++) {
        assert_int_equal(ns_field_by_name(ns_fields[f].name), f);
    }
    for (size_t k = 0; k < sizeof(others) / sizeof(others[0]); k++) {
        assert_int_equal(ns_field_by_name(others[k]), -1);
    }
}

static void test_parse_time(void **state)
{
    static const struct {
        const char *in;  /* timestamp */
        const char *out; /* ISO UTC, or NULL when it must fail */
    } cases[] = {
        {"2026-03-12T02:56:00.824258+00:00", "2026-03-12T02:56:00.824258Z"},
        {"2019-03-02T23:00:00.746139000Z", "2019-03-02T23:00:00.746139Z"},
        {"2026-05-03T21:03:06.9528515+00:00", "2026-05-03T21:03:06.952851Z"},
        {"2026-05-03T21:03:06Z", "2026-05-03T21:03:06.000000Z"},
        {"2026-05-03T21:03:06", "2026-05-03T21:03:06.000000Z"},
        {"2026-05-03T21:03:06.5Z", "2026-05-03T21:03:06.500000Z"},
        {"2026-05-03T23:30:00.1+02:00", "2026-05-03T21:30:00.100000Z"},
        {"2026-01-01T00:30:00-05:30", "2026-01-01T06:00:00.000000Z"},
        {"2024-02-29 12:00:00.123456789Z", "2024-02-29T12:00:00.123456Z"},
        {"1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500000Z"},
        {"2023-02-29T00:00:00Z", NULL},
        {"2026-13-01T00:00:00Z", NULL},
        {"2026-05-03T21:03:06.1234567890Z", NULL},
        {"2026-05-03", NULL},
        {"yesterday", NULL},
        {"", NULL},
    };
    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        int64_t us;
        char buf[32];
        int rc = ns_parse_time(cases[k].in, &us);
        if (!cases[k].out) {
            assert_int_not_equal(rc, NS_OK);
            continue;
        }
        assert_int_equal(rc, NS_OK);
        ns_format_time(us, buf);
        assert_string_equal(buf, cases[k].out);
    }
}

static void test_parse_int(void **state)
{
    int64_t v;
    (void)state;
    assert_int_equal(ns_parse_int("720", &v), NS_OK);
    assert_int_equal(v, 720);
    assert_int_equal(ns_parse_int("0x3e7", &v), NS_OK);
    assert_int_equal(v, 999);
    assert_int_equal(ns_parse_int(" 0X4641E93 ", &v), NS_OK);
    assert_int_equal(v, 0x4641e93);
    assert_int_equal(ns_parse_int("9223372036854775808", &v), NS_OK);
    assert_true((uint64_t)v == 0x8000000000000000ull);
    assert_int_equal(ns_parse_int("-5", &v), NS_OK);
    assert_int_equal(v, -5);
    assert_int_not_equal(ns_parse_int("18446744073709551616", &v), NS_OK);
    assert_int_not_equal(ns_parse_int("12abc", &v), NS_OK);
    assert_int_not_equal(ns_parse_int("", &v), NS_OK);
    assert_int_not_equal(ns_parse_int("0x", &v), NS_OK);
}

/* ========================================================================================== */
/* Every event ID, both renderings                                                             */
/* ========================================================================================== */

#define MAXP 24

/* One event ID: its fields under each rendering, and what the canonical event must hold. */
struct id_case {
    int id;                   /* event ID */
    const char *provider;     /* provider */
    const char *a[MAXP];      /* "Name=value" under the first rendering */
    const char *b[MAXP];      /* the same under the second (NULL[0]: same as a) */
    const char *expect[MAXP]; /* "field=value" of the canonical event ("field=" : NULL) */
};

static const struct id_case id_cases[] = {
    {100,
     NTLM_PROV,
     {"Account_Name=alice", "Device_Name=WS01", "Error_Code=0xC000006D"},
     {"AccountName=alice", "DeviceName=WS01", "Status=0xc000006d"},
     {"role=other", "outcome=failed", "level=4", "account=alice", "client_machine=WS01",
      "status=0xc000006d"}},
    {101,
     NTLM_PROV,
     {"Account_Name=bob", "Device_Name=WS02", "Error_Code=0xC0000413", "Silo_Name=Tier0",
      "PolicyName=T0-Policy"},
     {"AccountName=bob", "DeviceName=WS02", "Status=0xC0000413", "SiloName=Tier0",
      "PolicyName=T0-Policy"},
     {"role=other", "outcome=failed", "account=bob", "silo_name=Tier0", "policy_name=T0-Policy",
      "status=0xc0000413"}},
    {301,
     NTLM_PROV,
     {"Account_Name=carol", "Device_Name=WS03", "Error_Code=0x0", "Silo_Name=S", "PolicyName=P"},
     {"AccountName=carol", "DeviceName=WS03", "Status=0", "SiloName=S", "PolicyName=P"},
     {"role=other", "outcome=audit", "account=carol", "client_machine=WS03", "status=0x0"}},
    {4001,
     NTLM_PROV,
     {"TargetName=cifs/127.0.0.1", "UserName=bogus", "DomainName=BOGUS", "CallerPID=4",
      "ProcessName=", "ClientLUID=0x4641e93", "ClientUserName=localuser",
      "ClientDomainName=DESKTOP-K7Q9MS2", "MechanismOID=(NULL)"},
     {NULL},
     {"role=client", "outcome=blocked", "target_service=cifs", "target_machine=127.0.0.1",
      "target_ip=127.0.0.1", "account=bogus", "account_domain=BOGUS", "process_pid=4",
      "process_name=", "client_luid=0x4641e93", "process_user=localuser",
      "process_domain=DESKTOP-K7Q9MS2", "mechanism_oid=", "client_machine=HOST1"}},
    {4002,
     NTLM_PROV,
     {"CallerPID=720", "ProcessName=C:\\Windows\\System32\\lsass.exe", "ClientLUID=0x3e4",
      "ClientUserName=LAB-WIN11$", "ClientDomainName=WORKGROUP",
      "MechanismOID=1.3.6.1.4.1.311.2.2.10"},
     {"Calling_process_PID=720", "Calling_process_name=C:\\Windows\\System32\\lsass.exe",
      "Calling_process_LUID=0x3E4", "Calling_process_user_identity=LAB-WIN11$",
      "Calling_process_domain_identity=WORKGROUP", "Mechanism_OID=1.3.6.1.4.1.311.2.2.10"},
     {"role=server", "outcome=blocked", "process_pid=720", "client_luid=0x3e4",
      "account=LAB-WIN11$", "account_domain=WORKGROUP", "target_machine=HOST1",
      "mechanism_oid=1.3.6.1.4.1.311.2.2.10", "process_name=C:\\Windows\\System32\\lsass.exe"}},
    {4003,
     NTLM_PROV,
     {"UserName=domainuser", "DomainName=LUDUS", "Workstation=WS09", "CallerPID=764",
      "ProcessName=lsass.exe", "LogonType=3", "InProc=true", "MechanismOID=(NULL)"},
     {"User=domainuser", "Domain=LUDUS", "Workstation=WS09", "PID=764", "Process=lsass.exe",
      "Logon_type=3", "InProc=1", "Mechanism=(NULL)"},
     {"role=dc", "outcome=blocked", "account=domainuser", "account_domain=LUDUS",
      "client_machine=WS09", "process_pid=764", "process_name=lsass.exe", "logon_type=3",
      "in_proc=1", "mechanism_oid="}},
    {4004,
     NETLOGON_PROV,
     {"SChannelName=FS01", "UserName=dave", "DomainName=CORP", "WorkstationName=\\\\WS10",
      "SChannelType=2"},
     {NULL},
     {"role=dc", "outcome=blocked", "server_name=FS01", "target_machine=FS01", "account=dave",
      "account_domain=CORP", "client_machine=WS10", "secure_channel_type=2"}},
    {4005,
     NETLOGON_PROV,
     {"SChannelName=FS02", "UserName=erin", "WorkstationName=WS11"},
     {NULL},
     {"role=dc", "outcome=blocked", "server_name=FS02", "client_machine=WS11"}},
    {4006,
     NETLOGON_PROV,
     {"SChannelName=FS03", "UserName=frank", "WorkstationName=NULL"},
     {NULL},
     {"role=dc", "outcome=blocked", "server_name=FS03", "client_machine="}},
    {4010,
     NTLM_PROV,
     {"CallerPID=900", "ProcessName=app.exe", "NegotiatedSecurity=0x20000000",
      "RequiredSecurity=0x20080000"},
     {"Calling_process_PID=900", "Calling_Process_Name=app.exe",
      "Negotiated_Security_Flags=0x20000000", "Minimum_Security_Flags=0x20080000"},
     {"role=client", "outcome=blocked", "process_pid=900", "process_name=app.exe",
      "negotiated_security=0x20000000", "required_security=0x20080000"}},
    {4011,
     NTLM_PROV,
     {"CallerPID=901", "ProcessName=srv.exe", "NegotiatedSecurity=0x1", "RequiredSecurity=0x2"},
     {"Calling_process_PID=901", "Calling_Process_Name=srv.exe", "Negotiated_Security_Flags=0x1",
      "Minimum_Security_Flags=0x2"},
     {"role=server", "outcome=blocked", "process_pid=901", "process_name=srv.exe",
      "negotiated_security=0x1", "required_security=0x2"}},
    {4012,
     NTLM_PROV,
     {"Extra1=x"},
     {NULL},
     {"role=client", "outcome=used", "extra={\"Extra1\":\"x\"}"}},
    {4013,
     NTLM_PROV,
     {NULL},
     {NULL},
     {"role=client", "outcome=failed", "ntlm_version=NTLMv1", "level=4"}},
    {4014,
     NTLM_PROV,
     {"ImageName=svchost", "SvcHostTag="},
     {"Calling_Process_Name=svchost", "Service_Host_Tag="},
     {"role=other", "outcome=blocked", "image_name=svchost", "svchost_tag="}},
    {4015,
     NTLM_PROV,
     {"TargetName=HTTP/web01.corp.example.com:8080", "UserName=gina", "DomainName=CORP",
      "CallerPID=1234", "ProcessName=chrome.exe"},
     {NULL},
     {"role=client", "outcome=blocked", "target_service=HTTP",
      "target_machine=web01.corp.example.com", "target_ip=", "account=gina"}},
    {4020,
     NTLM_PROV,
     {"ProcessName=C:\\Windows\\explorer.exe",
      "ProcessPID=0x1a2b",
      "Username=hank",
      "DomainName=CORP",
      "Hostname=WS12",
      "SingleSignOn=Single Sign-On",
      "TargetMachine=FS01",
      "TargetDomain=CORP",
      "TargetService=cifs/FS01",
      "TargetIP=10.0.0.5",
      "TargetNetworkName=fs01.corp.example.com",
      "NtlmUsageId=6",
      "NtlmUsageReason=The target name could not be resolved",
      "NegotiatedFlags=0xE2888215",
      "NtlmVersion=NTLMv2",
      "SessionKeyStatus=Present",
      "ChannelBindingStatus=Supported",
      "ServiceBinding=cifs/FS01",
      "MicStatus=Protected",
      "AvlFlags=0x2",
      "AvlFlagsStr=MIC present"},
     {"Process_Name=C:\\Windows\\explorer.exe",
      "Process_PID=6699",
      "User=hank",
      "Domain=CORP",
      "Host Name=WS12",
      "Sign On Type=Single Sign-On",
      "Target Machine=FS01",
      "Target Domain=CORP",
      "Target Resource=cifs/FS01",
      "Target IP=10.0.0.5",
      "Target Network Name=fs01.corp.example.com",
      "Reason ID=6",
      "UsageReason=The target name could not be resolved",
      "Negotiated Flags=0xe2888215",
      "NTLM Version=NTLM V2",
      "Session Key Status=Present",
      "Channel Binding=Supported",
      "Service Binding=cifs/FS01",
      "MIC Status=Protected",
      "AvFlags=2",
      "AvFlagsStr=MIC present"},
     {"role=client",
      "outcome=used",
      "process_name=C:\\Windows\\explorer.exe",
      "process_pid=6699",
      "account=hank",
      "account_domain=CORP",
      "client_machine=WS12",
      "sign_on=Single Sign-On",
      "target_machine=FS01",
      "target_domain=CORP",
      "target_service=cifs",
      "target_ip=10.0.0.5",
      "target_network_name=fs01.corp.example.com",
      "reason_id=6",
      "reason_text=The target name could not be resolved",
      "negotiated_flags=0xe2888215",
      "ntlm_version=NTLMv2",
      "session_key=Present",
      "channel_binding=Supported",
      "service_binding=cifs/FS01",
      "mic=Protected",
      "av_flags=0x2",
      "av_flags_str=MIC present"}},
    {4021,
     NTLM_PROV,
     {"ProcessName=erp32.exe", "ProcessPID=0x10", "Username=ivan", "DomainName=CORP",
      "Hostname=WS13", "TargetService=host/10.20.0.71", "NtlmUsageId=7", "NtlmVersion=NTLMv1",
      "MicStatus=Unprotected"},
     {"Process_Name=erp32.exe", "ProcessId=16", "User=ivan", "Domain=CORP", "HostName=WS13",
      "TargetResource=host/10.20.0.71", "UsageId=7", "NTLM_Version=NTLM v1",
      "MIC_Status=Unprotected"},
     {"role=client", "outcome=used", "process_pid=16", "target_machine=10.20.0.71",
      "target_ip=10.20.0.71", "target_service=host", "reason_id=7", "ntlm_version=NTLMv1",
      "mic=Unprotected"}},
    {4022,
     NTLM_PROV,
     {"ProcessName=System", "ProcessPID=0x4", "Username=judy", "DomainName=CORP",
      "RemoteClientMachine=WS14", "ClientIP=10.30.0.14", "ClientNetworkName=WS14",
      "NegotiatedFlags=0x1", "NtlmVersion=NTLMv2", "TargetMachine=FS02", "TargetDomain=CORP",
      "AvFlags=0x2", "AvFlagsStr=MIC present", "Status=0x0", "StatusMsg=STATUS_SUCCESS"},
     {"Process_Name=System", "Process_PID=4", "User=judy", "Domain=CORP", "Client_Machine=WS14",
      "Client_IP=10.30.0.14", "Client Network Name=WS14", "Negotiated_Flags=1",
      "NTLM Version=NTLMv2", "Target_Machine=FS02", "Target_Domain=CORP", "Av_Flags=0x2",
      "AvFlagsString=MIC present", "StatusCode=0", "Status Message=STATUS_SUCCESS"},
     {"role=server", "outcome=used", "account=judy", "client_machine=WS14", "client_ip=10.30.0.14",
      "client_network_name=WS14", "target_machine=FS02", "status=0x0", "status_msg=STATUS_SUCCESS",
      "av_flags_str=MIC present", "negotiated_flags=0x1"}},
    {4023,
     NTLM_PROV,
     {"Username=kim", "RemoteClientMachine=WS15", "ClientIP=10.30.0.15", "NtlmVersion=NTLMv1"},
     {"User=kim", "ClientMachine=WS15", "Client_IP=10.30.0.15", "NTLM_Version=v1"},
     {"role=server", "outcome=used", "account=kim", "client_machine=WS15", "ntlm_version=NTLMv1",
      "target_machine=HOST1"}},
    {4024,
     NTLM_PROV,
     {"TargetName=cifs/fs01", "UserName=lee", "ProcessName=a.exe"},
     {NULL},
     {"role=client", "outcome=audit", "ntlm_version=NTLMv1", "account=lee", "target_machine=fs01"}},
    {4025,
     NTLM_PROV,
     {"TargetName=fs02", "UserName=mia"},
     {NULL},
     {"role=client", "outcome=blocked", "ntlm_version=NTLMv1", "target_machine=fs02",
      "target_service="}},
    {4030,
     NETLOGON_PROV,
     {"ClientName=ned", "ClientDomain=CORP", "ClientMachine=WS16", "ServerName=APP02",
      "ServerDomain=PARTNER", "SecureChannelType=4", "FarsideName=PDC01", "FarsideDomain=PARTNER",
      "FarsideIP=192.0.2.10", "NtlmVersion=NTLMv2", "Status=0x0"},
     {"Client_Name=ned", "Client_Domain=CORP", "ClientMachineName=WS16", "Server_Name=APP02",
      "Server_Domain=PARTNER", "SChannelType=4", "Farside_Name=PDC01", "Farside_Domain=PARTNER",
      "Farside_IP=192.0.2.10", "NTLM_Version=NTLMv2", "Status_Code=0"},
     {"role=dc", "outcome=used", "account=ned", "account_domain=CORP", "client_machine=WS16",
      "server_name=APP02", "server_domain=PARTNER", "target_machine=APP02", "secure_channel_type=4",
      "farside_name=PDC01", "farside_domain=PARTNER", "farside_ip=192.0.2.10", "status=0x0"}},
    {4031,
     NETLOGON_PROV,
     {"ClientName=olga", "ServerName=APP03", "NtlmVersion=NTLMv1"},
     {"Client_Name=olga", "Server_Name=APP03", "NTLM_Version=NTLMv1"},
     {"role=dc", "outcome=used", "account=olga", "target_machine=APP03", "ntlm_version=NTLMv1"}},
    {4032,
     NETLOGON_PROV,
     {"ClientName=pat", "ClientDomain=CORP", "ClientMachine=WS17", "ServerName=SQL01",
      "ServerDomain=CORP", "ServerIP=10.20.0.21", "ServerOS=Windows Server 2025",
      "StatusMsg=STATUS_SUCCESS"},
     {"Client_Name=pat", "Client_Domain=CORP", "Workstation=WS17", "Server_Name=SQL01",
      "Server_Domain=CORP", "Server_IP=10.20.0.21", "Server_OS=Windows Server 2025",
      "Status_Message=STATUS_SUCCESS"},
     {"role=dc", "outcome=used", "account=pat", "client_machine=WS17", "server_name=SQL01",
      "server_ip=10.20.0.21", "target_ip=10.20.0.21", "server_os=Windows Server 2025",
      "target_machine=SQL01", "target_domain=CORP", "status_msg=STATUS_SUCCESS"}},
    {4033,
     NETLOGON_PROV,
     {"ClientName=quin", "ServerName=SQL02", "MicStatus=Unprotected"},
     {"Client_Name=quin", "Server_Name=SQL02", "MIC_Status=Unprotected"},
     {"role=dc", "outcome=used", "account=quin", "mic=Unprotected"}},
    {8001,
     NTLM_PROV,
     {"TargetName=cifs/fs01.corp", "UserName=rita", "DomainName=CORP", "CallerPID=4",
      "ProcessName=explorer.exe", "ClientLUID=0x3e7", "ClientUserName=SYSTEM",
      "ClientDomainName=NT AUTHORITY", "MechanismOID=1.3.6.1.4.1.311.2.2.10"},
     {"Target_server=cifs/fs01.corp", "Supplied_user=rita", "Supplied_domain=CORP",
      "PID_of_client_process=4", "Name_of_client_process=explorer.exe",
      "LUID_of_client_process=0x3E7", "User_identity_of_client_process=SYSTEM",
      "Domain_name_of_user_identity_of_client_process=NT AUTHORITY",
      "Mechanism_OID=1.3.6.1.4.1.311.2.2.10"},
     {"role=client", "outcome=audit", "target_service=cifs", "target_machine=fs01.corp",
      "account=rita", "account_domain=CORP", "process_pid=4", "process_name=explorer.exe",
      "client_luid=0x3e7", "process_user=SYSTEM", "process_domain=NT AUTHORITY",
      "client_machine=HOST1"}},
    {8002,
     NTLM_PROV,
     {"CallerPID=4", "ProcessName=", "ClientLUID=0x3e7", "ClientUserName=DC$",
      "ClientDomainName=atc", "MechanismOID=1.3.6.1.4.1.311.2.2.10"},
     {"Calling_process_PID=4", "Calling_process_name=", "Calling_process_LUID=0x3e7",
      "Calling_process_user_identity=DC$", "Calling_process_domain_identity=atc",
      "Mechanism_OID=1.3.6.1.4.1.311.2.2.10"},
     {"role=server", "outcome=audit", "account=DC$", "account_domain=atc", "target_machine=HOST1",
      "process_name="}},
    {8003,
     NTLM_PROV,
     {"UserName=domainuser", "DomainName=LUDUS", "Workstation=(NULL)", "CallerPID=764",
      "ProcessName=C:\\Windows\\System32\\lsass.exe", "LogonType=3", "InProc=true",
      "MechanismOID=(NULL)"},
     {"User=domainuser", "Domain=LUDUS", "Workstation=(NULL)", "PID=764",
      "Process=C:\\Windows\\System32\\lsass.exe", "Logon_type=3", "InProc=TRUE",
      "Mechanism=(NULL)"},
     {"role=dc", "outcome=audit", "account=domainuser", "client_machine=", "in_proc=1",
      "logon_type=3"}},
    {8004,
     NETLOGON_PROV,
     {"SChannelName=FS01", "UserName=sam", "DomainName=CORP", "WorkstationName=\\\\WS18",
      "SChannelType=2"},
     {"SChannelName=FS01", "User=sam", "Domain=CORP", "Workstation=\\\\WS18",
      "SecureChannelType=2"},
     {"role=dc", "outcome=audit", "server_name=FS01", "target_machine=FS01", "account=sam",
      "client_machine=WS18", "secure_channel_type=2"}},
    {8005,
     NETLOGON_PROV,
     {"SChannelName=NULL", "UserName=tom", "WorkstationName=WS19"},
     {NULL},
     {"role=dc", "outcome=audit", "server_name=", "account=tom"}},
    {8006,
     NETLOGON_PROV,
     {"SChannelName=FS05", "UserName=uma", "WorkstationName=WS20"},
     {NULL},
     {"role=dc", "outcome=audit", "server_name=FS05", "client_machine=WS20"}},
};

/* Builds one event from "Name=value" pairs. */
static void build_event(struct ns_buf *b, const struct id_case *c, const char *const *pairs)
{
    ns_buf_printf(b,
                  "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">"
                  "<System><Provider Name=\"%s\"/><EventID>%d</EventID><Level>4</Level>"
                  "<TimeCreated SystemTime=\"2026-03-12T02:56:00.8242580Z\"/>"
                  "<EventRecordID>%d</EventRecordID><Channel>%s</Channel>"
                  "<Computer>HOST1</Computer></System><EventData>",
                  c->provider, c->id, c->id, NTLM_CH);
    for (int k = 0; k < MAXP && pairs[k]; k++) {
        const char *eq = strchr(pairs[k], '=');
        assert_non_null(eq);
        ns_buf_printf(b, "<Data Name=\"%.*s\">", (int)(eq - pairs[k]), pairs[k]);
        for (const char *p = eq + 1; *p; p++) {
            if (*p == '&') {
                ns_buf_adds(b, "&amp;");
            } else {
                ns_buf_add(b, p, 1);
            }
        }
        ns_buf_adds(b, "</Data>");
    }
    ns_buf_adds(b, "</EventData></Event>\n");
}

/* Checks "field=value" expectations against an event. */
static void check_expect(const struct ns_event *ev, const char *const *expect, int id)
{
    for (int k = 0; k < MAXP && expect[k]; k++) {
        const char *eq = strchr(expect[k], '=');
        char name[64], got[64];
        const char *val;
        int f;
        snprintf(name, sizeof(name), "%.*s", (int)(eq - expect[k]), expect[k]);
        f = ns_field_by_name(name);
        if (f < 0) {
            fail_msg("event %d: no field %s", id, name);
        }
        if (ns_fields[f].kind == NS_K_TEXT || ns_fields[f].kind == NS_K_HEX) {
            val = ev->s[f];
        } else if (ev->has[f]) {
            snprintf(got, sizeof(got), "%lld", (long long)ev->i[f]);
            val = got;
        } else {
            val = NULL;
        }
        if (!eq[1]) {
            if (val) {
                fail_msg("event %d: %s should be NULL, is \"%s\"", id, name, val);
            }
        } else if (!val || strcmp(val, eq + 1)) {
            fail_msg("event %d: %s is \"%s\", expected \"%s\"", id, name, val ? val : "(null)",
                     eq + 1);
        }
    }
}

static void test_every_event_id_both_renderings(void **state)
{
    size_t ncat;
    const struct ns_catalog_entry *cat = ns_catalog_all(&ncat);
    (void)state;
    /* every catalogue ID has a case */
    for (size_t k = 0; k < ncat; k++) {
        int found = 0;
        for (size_t c = 0; c < sizeof(id_cases) / sizeof(id_cases[0]); c++) {
            found |= id_cases[c].id == cat[k].id;
        }
        if (!found) {
            fail_msg("event %d of the catalogue has no test case", cat[k].id);
        }
    }
    for (size_t c = 0; c < sizeof(id_cases) / sizeof(id_cases[0]); c++) {
        const struct id_case *tc = &id_cases[c];
        for (int r = 0; r < 2; r++) {
            const char *const *pairs = r == 0 || !tc->b[0] ? tc->a : tc->b;
            struct collect *col = collect_new();
            struct ns_buf b;
            ns_buf_init(&b, 0);
            build_event(&b, tc, pairs);
            assert_int_equal(parse_buffer(col, NS_FMT_XML, b.data, b.len, 0), NS_OK);
            if (col->n != 1) {
                fail_msg("event %d rendering %d: %zu events, %zu rejected (%s)", tc->id, r, col->n,
                         col->rejected, col->rejected ? col->why[0] : "");
            }
            check_expect(&col->ev[0], tc->expect, tc->id);
            assert_int_equal(col->ev[0].i[NS_F_event_id], tc->id);
            ns_buf_free(&b);
            collect_free(col);
            if (!tc->b[0]) {
                break;
            }
        }
    }
}

/* ========================================================================================== */
/* XML shapes                                                                                  */
/* ========================================================================================== */

static void three_events(struct ns_buf *b)
{
    xml_event(b, NTLM_PROV, NTLM_CH, 8001, "WS01", 1, "2026-03-12T01:00:00.1234567Z", "TargetName",
              "cifs/fs01", "UserName", "alice", NULL);
    xml_event(b, "Microsoft-Windows-GroupPolicy", "Microsoft-Windows-GroupPolicy/Operational", 4001,
              "WS01", 2, "2026-03-12T01:00:01Z", "Foo", "bar", NULL);
    xml_event(b, NTLM_PROV, NTLM_CH, 8002, "FS01", 3, "2026-03-12T01:00:02Z", "ClientUserName",
              "bob", "ProcessName", NULL, NULL);
}

static void test_xml_no_root_and_root(void **state)
{
    struct ns_buf b;
    (void)state;
    for (int shape = 0; shape < 3; shape++) {
        struct collect *c = collect_new();
        ns_buf_init(&b, 0);
        if (shape == 1) {
            ns_buf_adds(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Events>\n");
        } else if (shape == 2) {
            ns_buf_adds(&b, "\xEF\xBB\xBF");
        }
        three_events(&b);
        if (shape == 1) {
            ns_buf_adds(&b, "</Events>\n");
        }
        assert_int_equal(parse_buffer(c, NS_FMT_AUTO, b.data, b.len, 0), NS_OK);
        assert_int_equal(c->n, 2);
        assert_int_equal(c->skipped, 1);
        assert_int_equal(c->rejected, 0);
        assert_string_equal(S(&c->ev[0], NS_F_account), "alice");
        assert_string_equal(S(&c->ev[1], NS_F_account), "bob");
        assert_null(S(&c->ev[1], NS_F_process_name));
        ns_buf_free(&b);
        collect_free(c);
    }
}

/* Encodes UTF-8 as UTF-16 (le or be) with a byte-order mark, and LF as CRLF. */
static void to_utf16(const char *in, struct ns_buf *out, int little)
{
    const unsigned char *p = (const unsigned char *)in;
    ns_buf_add(out, little ? "\xFF\xFE" : "\xFE\xFF", 2);
    while (*p) {
        unsigned cp;
        if (*p < 0x80) {
            cp = *p++;
        } else if ((*p & 0xE0) == 0xC0) {
            cp = ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
            p += 2;
        } else if ((*p & 0xF0) == 0xE0) {
            cp = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
            p += 3;
        } else {
            cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
                 (p[3] & 0x3Fu);
            p += 4;
        }
        if (cp == '\n') {
            unsigned char cr[2] = {little ? 0x0D : 0, little ? 0 : 0x0D};
            ns_buf_add(out, cr, 2);
        }
        if (cp >= 0x10000) {
            unsigned hi = 0xD800 + ((cp - 0x10000) >> 10), lo = 0xDC00 + ((cp - 0x10000) & 0x3FF);
            unsigned char u[4] = {(unsigned char)(little ? hi & 0xFF : hi >> 8),
                                  (unsigned char)(little ? hi >> 8 : hi & 0xFF),
                                  (unsigned char)(little ? lo & 0xFF : lo >> 8),
                                  (unsigned char)(little ? lo >> 8 : lo & 0xFF)};
            ns_buf_add(out, u, 4);
        } else {
            unsigned char u[2] = {(unsigned char)(little ? cp & 0xFF : cp >> 8),
                                  (unsigned char)(little ? cp >> 8 : cp & 0xFF)};
            ns_buf_add(out, u, 2);
        }
    }
}

static void test_xml_utf16_bom_crlf(void **state)
{
    (void)state;
    for (int little = 0; little < 2; little++) {
        for (size_t chunk = 0; chunk < 8; chunk += 7) {
            struct ns_buf u8, u16;
            struct collect *c = collect_new();
            ns_buf_init(&u8, 0);
            ns_buf_init(&u16, 0);
            ns_buf_adds(&u8, "<?xml version=\"1.0\" encoding=\"utf-16\"?>\n");
            xml_event(&u8, NTLM_PROV, NTLM_CH, 4020, "WS01", 7, "2026-03-12T01:00:00Z", "Username",
                      "Müller 山田 \xF0\x9F\x94\x91", "Hostname", "WS01", "TargetMachine", "FS01",
                      "NtlmUsageId", "6", NULL);
            xml_event(&u8, NTLM_PROV, NTLM_CH, 4020, "WS01", 8, "2026-03-12T01:00:01Z", "Username",
                      "Ωmega", NULL);
            to_utf16(u8.data, &u16, little);
            /* chunk 7: odd-sized chunks split code units and surrogate pairs */
            assert_int_equal(parse_buffer(c, NS_FMT_AUTO, u16.data, u16.len, chunk), NS_OK);
            assert_int_equal(c->rejected, 0);
            assert_int_equal(c->n, 2);
            assert_string_equal(S(&c->ev[0], NS_F_account), "Müller 山田 \xF0\x9F\x94\x91");
            assert_string_equal(S(&c->ev[1], NS_F_account), "Ωmega");
            assert_int_equal(c->ev[0].i[NS_F_reason_id], 6);
            ns_buf_free(&u8);
            ns_buf_free(&u16);
            collect_free(c);
        }
    }
}

static void test_xml_pretty_rendering_info_and_byte_chunks(void **state)
{
    static const char xml[] =
        "<Events>\r\n"
        "  <Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>\r\n"
        "    <System>\r\n"
        "      <Provider Name='Microsoft-Windows-NTLM' "
        "Guid='{AC43300D-5FCC-4800-8E99-1BD3F85F0320}'/>\r\n"
        "      <EventID>4022</EventID>\r\n"
        "      <Level>4</Level>\r\n"
        "      <TimeCreated SystemTime='2026-05-03T21:03:06.9528515Z'/>\r\n"
        "      <EventRecordID>77</EventRecordID>\r\n"
        "      <Correlation ActivityID='{64478093-D4F9-0001-1C81-4764F9D4DC01}'/>\r\n"
        "      <Channel>Microsoft-Windows-NTLM/Operational</Channel>\r\n"
        "      <Computer>fs01.corp.example.com</Computer>\r\n"
        "    </System>\r\n"
        "    <EventData>\r\n"
        "      <Data Name='Username'>\r\n        svc_backup\r\n      </Data>\r\n"
        "      <Data Name='RemoteClientMachine'>APP01</Data>\r\n"
        "      <Data Name='ClientIP'>10.20.0.41</Data>\r\n"
        "      <Data Name='Status'/>\r\n"
        "      <Data Name='Unknown Field'>kept &amp; escaped &lt;here&gt;</Data>\r\n"
        "    </EventData>\r\n"
        "    <RenderingInfo Culture='en-US'>\r\n"
        "      <Message>A remote client is using NTLM to authenticate to this "
        "workstation.</Message>\r\n"
        "      <Level>Information</Level>\r\n"
        "    </RenderingInfo>\r\n"
        "  </Event>\r\n"
        "</Events>\r\n";
    (void)state;
    for (size_t chunk = 0; chunk <= 3; chunk++) {
        struct collect *c = collect_new();
        assert_int_equal(parse_buffer(c, NS_FMT_XML, xml, sizeof(xml) - 1, chunk), NS_OK);
        assert_int_equal(c->n, 1);
        assert_string_equal(S(&c->ev[0], NS_F_account), "svc_backup");
        assert_string_equal(S(&c->ev[0], NS_F_client_machine), "APP01");
        assert_string_equal(S(&c->ev[0], NS_F_target_machine), "fs01.corp.example.com");
        assert_null(S(&c->ev[0], NS_F_status));
        assert_string_equal(S(&c->ev[0], NS_F_message),
                            "A remote client is using NTLM to authenticate to this workstation.");
        assert_string_equal(S(&c->ev[0], NS_F_extra),
                            "{\"Unknown Field\":\"kept & escaped <here>\"}");
        assert_string_equal(S(&c->ev[0], NS_F_activity_id),
                            "{64478093-D4F9-0001-1C81-4764F9D4DC01}");
        collect_free(c);
    }
}

static void test_xml_truncated_and_malformed(void **state)
{
    struct ns_buf b;
    struct collect *c = collect_new();
    size_t cut;
    (void)state;
    ns_buf_init(&b, 0);
    xml_event(&b, NTLM_PROV, NTLM_CH, 8001, "WS01", 1, "2026-03-12T01:00:00Z", "UserName", "a",
              NULL);
    /* a malformed event in the middle: its neighbours are kept */
    ns_buf_adds(&b, "<Event><System><EventID>8001</EventID></Sys></Event>\n");
    /* an event with a bad time: rejected by the normalizer */
    xml_event(&b, NTLM_PROV, NTLM_CH, 8001, "WS01", 2, "not-a-time", "UserName", "b", NULL);
    xml_event(&b, NTLM_PROV, NTLM_CH, 8001, "WS01", 3, "2026-03-12T01:00:03Z", "UserName", "c",
              NULL);
    cut = b.len;
    xml_event(&b, NTLM_PROV, NTLM_CH, 8001, "WS01", 4, "2026-03-12T01:00:04Z", "UserName", "d",
              NULL);
    /* an event cut short, then a good one (a file appended to a truncated one) */
    {
        struct ns_buf t;
        ns_buf_init(&t, 0);
        ns_buf_add(&t, b.data + cut, (b.len - cut) / 2);
        b.len = cut;
        ns_buf_add(&b, t.data, t.len);
        ns_buf_adds(&b, "\n");
        ns_buf_free(&t);
    }
    xml_event(&b, NTLM_PROV, NTLM_CH, 8001, "WS01", 5, "2026-03-12T01:00:05Z", "UserName", "e",
              NULL);
    /* and the file itself ends inside an event */
    ns_buf_adds(&b, "<Event xmlns=\"x\"><System><EventID>8001</Event");
    assert_int_equal(parse_buffer(c, NS_FMT_XML, b.data, b.len, 100), NS_OK);
    assert_int_equal(c->n, 3);
    assert_string_equal(S(&c->ev[0], NS_F_account), "a");
    assert_string_equal(S(&c->ev[1], NS_F_account), "c");
    assert_string_equal(S(&c->ev[2], NS_F_account), "e");
    assert_int_equal(c->rejected, 4);
    assert_string_equal(c->where[0], "line 2");
    assert_string_equal(c->where[1], "line 3");
    assert_non_null(strstr(c->why[1], "time_created"));
    assert_string_equal(c->where[2], "line 5");
    assert_non_null(strstr(c->why[2], "truncated"));
    assert_string_equal(c->where[3], "line 7");
    assert_non_null(strstr(c->why[3], "truncated"));
    ns_buf_free(&b);
    collect_free(c);
}

static void test_xml_no_entities_no_network(void **state)
{
    static const char xxe[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE Event [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">"
        "<!ENTITY lol \"lollollollollollollol\">]>\n"
        "<Event><System><Provider Name=\"Microsoft-Windows-NTLM\"/><EventID>8001</EventID>"
        "<TimeCreated SystemTime=\"2026-03-12T01:00:00Z\"/><EventRecordID>1</EventRecordID>"
        "<Channel>Microsoft-Windows-NTLM/Operational</Channel><Computer>WS01</Computer>"
        "</System><EventData><Data Name=\"UserName\">&xxe;&lol;</Data></EventData></Event>\n";
    static const char inner[] =
        "<Event><!DOCTYPE x [<!ENTITY a \"b\">]><System></System></Event>\n";
    struct collect *c = collect_new();
    (void)state;
    parse_buffer(c, NS_FMT_XML, xxe, sizeof(xxe) - 1, 0);
    /* the entity is not expanded: the event is rejected or stored without the file */
    for (size_t k = 0; k < c->n; k++) {
        const char *acct = S(&c->ev[k], NS_F_account);
        assert_true(acct == NULL || strstr(acct, "root:") == NULL);
        assert_true(acct == NULL || strstr(acct, "lollol") == NULL);
    }
    assert_int_equal(c->n + c->rejected, 1);
    collect_free(c);
    c = collect_new();
    parse_buffer(c, NS_FMT_XML, inner, sizeof(inner) - 1, 0);
    assert_int_equal(c->n, 0);
    assert_int_equal(c->rejected, 1);
    collect_free(c);
}

static void test_xml_hostile_names(void **state)
{
    struct ns_buf b;
    struct collect *c = collect_new();
    char long_name[301];
    (void)state;
    memset(long_name, 'A', 300);
    long_name[300] = '\0';
    ns_buf_init(&b, 0);
    xml_event(&b, NTLM_PROV, NTLM_CH, 4022, "FS01", 1, "2026-03-12T01:00:00Z", "Username",
              "&lt;script&gt;alert(1)&lt;/script&gt;", "RemoteClientMachine", "=cmd|' /C calc'!A0",
              "DomainName", "Ελληνικά-домен-ドメイン", "ProcessName", long_name, NULL);
    /* raw control characters and a forbidden character reference, as Windows writes them */
    xml_event(&b, NTLM_PROV, NTLM_CH, 4022, "FS01", 2, "2026-03-12T01:00:00Z", "Username",
              "bad\x03name&#x1;", NULL);
    assert_int_equal(parse_buffer(c, NS_FMT_XML, b.data, b.len, 0), NS_OK);
    assert_int_equal(c->rejected, 0);
    assert_int_equal(c->n, 2);
    assert_string_equal(S(&c->ev[0], NS_F_account), "<script>alert(1)</script>");
    assert_string_equal(S(&c->ev[0], NS_F_client_machine), "=cmd|' /C calc'!A0");
    assert_string_equal(S(&c->ev[0], NS_F_account_domain), "Ελληνικά-домен-ドメイン");
    assert_string_equal(S(&c->ev[0], NS_F_process_name), long_name);
    assert_string_equal(S(&c->ev[1], NS_F_account), "bad?name?#x1;");
    ns_buf_free(&b);
    collect_free(c);
}

/* ========================================================================================== */
/* The scanner of xmlfast.c against libxml2                                                    */
/* ========================================================================================== */

static uint64_t dumped; /* events the last xml_both() read (NTLM or not) */

static int dump_ntlm(void *ctx, const struct ns_event *ev)
{
    dumped++;
    assert_int_equal(ns_event_to_json(ev, ctx), NS_OK);
    return NS_OK;
}

static void dump_skip(void *ctx, const struct ns_raw *raw)
{
    struct ns_buf *out = ctx;
    dumped++;
    ns_buf_adds(out, "skip");
    for (int k = 0; k < NS_S_COUNT; k++) {
        ns_buf_printf(out, " %d=%s", k, raw->sys[k] ? raw->sys[k] : "(null)");
    }
    for (size_t k = 0; k < raw->ndata; k++) {
        ns_buf_printf(out, " [%s]=[%s]", raw->data[k].name,
                      raw->data[k].value ? raw->data[k].value : "(null)");
    }
    ns_buf_adds(out, "\n");
}

static void dump_reject(void *ctx, const char *source, const char *where, const char *why)
{
    (void)source;
    ns_buf_printf(ctx, "rejected at %s: %s\n", where, why);
}

/* Reads doc with the scanner first (fast 1) or with libxml2 only (fast 0) and writes what the
 * sink saw into out; returns how many events the scanner read. */
static uint64_t xml_both(const char *doc, size_t len, int fast, struct ns_buf *out)
{
    struct ns_sink sink = {out, dump_ntlm, dump_skip, dump_reject};
    struct ns_xml *x = NULL;
    uint64_t n;
    ns_buf_reset(out);
    dumped = 0;
    assert_int_equal(ns_xml_new(&x, "t", &sink), NS_OK);
    ns_xml_set_fast(x, fast);
    assert_int_equal(ns_xml_feed(x, doc, len), NS_OK);
    assert_int_equal(ns_xml_finish(x), NS_OK);
    n = ns_xml_fast_events(x);
    ns_xml_free(x);
    return n;
}

/* Events the scanner must read itself, each its own document. */
static const char *const scanner_reads[] = {
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
    "<Provider Name='Microsoft-Windows-NTLM' Guid='{AC43300D-5FCC-4800-8E99-1BD3F85F0320}'/>"
    "<EventID>8001</EventID><Version>0</Version><Level>4</Level><Task>0</Task>"
    "<Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords>"
    "<TimeCreated SystemTime='2026-03-12T02:56:00.8242580Z'/><EventRecordID>7</EventRecordID>"
    "<Correlation/><Execution ProcessID='716' ThreadID='2424'/>"
    "<Channel>Microsoft-Windows-NTLM/Operational</Channel><Computer>ws01.corp.example</Computer>"
    "<Security UserID='S-1-5-18'/></System><EventData>"
    "<Data Name='TargetName'>cifs/fs01</Data><Data Name='UserName'>J\xC3\xBCrgen \xE5\xB1\xB1"
    "\xE7\x94\xB0 \xF0\x9F\x98\x80</Data><Data Name='DomainName'/><Data Name='ProcessName'>"
    "</Data><Data>unnamed</Data><Data>second</Data></EventData></Event>",
    "<Event\r\n  xmlns = \"http://schemas.microsoft.com/win/2004/08/events/event\"\r\n>\r\n"
    "  <System >\r\n    <Provider\tName=\"Microsoft-Windows-NTLM\" />\r\n"
    "    <EventID >4020</EventID >\r\n    <TimeCreated SystemTime = '2026-03-12T01:00:00Z'/>\r\n"
    "    <EventRecordID>12</EventRecordID>\r\n"
    "    <Channel>Microsoft-Windows-NTLM/Operational</Channel>\r\n"
    "    <Computer>FS01</Computer>\r\n  </System>\r\n  <EventData>\r\n"
    "    <Data Name=\"UserName\">a&lt;b&gt;c&amp;d&quot;e&apos;f&#65;&#x263A;&#x1F600;&#13;"
    "</Data>\r\n    <Data Name=\"WorkstationName\">line1\r\nline2\rline3\nline4 ]] ] > </Data>\r\n"
    "    <Data Name=\"x'&lt;y\">v</Data>\r\n    <Data Name='q\"&#x263A;'>w</Data>\r\n"
    "  </EventData>\r\n  <RenderingInfo Culture='en-US'>\r\n"
    "    <Message>NTLM server blocked audit:\r\n\tline &amp; more</Message>\r\n"
    "    <Level>Information</Level>\r\n  </RenderingInfo>\r\n</Event>\r\n",
    "<Event xmlns=''><System><Provider Name='Other'/><EventID>1</EventID>"
    "<TimeCreated SystemTime='2026-03-12T01:00:00Z'/><EventRecordID>1</EventRecordID>"
    "<Channel>Application</Channel><Computer>A</Computer></System>"
    "<UserData><Wrap xmlns='Event_NS'><A>1</A><B><C>deep</C></B><D/>"
    "<E xmlns='http://x.example/y'>e</E></Wrap></UserData></Event>",
    "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
    "<Provider Name='Microsoft-Windows-NTLM'/><EventID>8002</EventID>"
    "<TimeCreated SystemTime='2026-03-12T01:00:00Z'/><EventRecordID>2</EventRecordID>"
    "<Channel>Microsoft-Windows-NTLM/Operational</Channel><Computer>DC01</Computer></System>"
    "<EventData><Data Name='CallerPID'>4</Data><Data Name='ClientUserName'>x<b>in</b>y</Data>"
    "<Other>text</Other><Data Name='ClientDomainName'>D</Data></EventData>"
    "<Unknown><Data Name='z'>zz</Data></Unknown></Event>\n",
};

/* Events the scanner leaves to libxml2 (each still read the same). */
static void scanner_leaves(struct ns_buf *b, int which)
{
    static const char head[] =
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
        "<Provider Name='Microsoft-Windows-NTLM'/><EventID>8001</EventID>"
        "<TimeCreated SystemTime='2026-03-12T01:00:00Z'/><EventRecordID>1</EventRecordID>"
        "<Channel>Microsoft-Windows-NTLM/Operational</Channel><Computer>WS01</Computer>"
        "</System>";
    ns_buf_reset(b);
    if (which == 0) {
        ns_buf_adds(b, "<?xml version='1.0' encoding='windows-1252'?>\n");
    }
    ns_buf_adds(b, head);
    switch (which) {
    case 1: /* an ampersand in an attribute value */
        ns_buf_adds(b, "<EventData><Data Name='a&amp;b'>x</Data></EventData>");
        break;
    case 2: /* comment and CDATA */
        ns_buf_adds(b, "<EventData><!-- c --><Data Name='UserName'><![CDATA[a<b]]></Data>"
                       "</EventData>");
        break;
    case 3: /* more attributes than the scanner keeps */
        ns_buf_adds(b, "<EventData><Data");
        for (int k = 0; k < 20; k++) {
            ns_buf_printf(b, " a%d='%d'", k, k);
        }
        ns_buf_adds(b, " Name='UserName'>bob</Data></EventData>");
        break;
    case 4: /* deeper than the scanner goes */
        ns_buf_adds(b, "<UserData>");
        for (int k = 0; k < 60; k++) {
            ns_buf_printf(b, "<L%d>", k);
        }
        ns_buf_adds(b, "leaf");
        for (int k = 59; k >= 0; k--) {
            ns_buf_printf(b, "</L%d>", k);
        }
        ns_buf_adds(b, "</UserData>");
        break;
    case 5: /* prefixes */
        ns_buf_adds(b, "<e:EventData xmlns:e='urn:x'><e:Data Name='UserName'>bob</e:Data>"
                       "</e:EventData>");
        break;
    default: /* white space in an attribute value, which libxml2 normalizes */
        ns_buf_adds(b, "<EventData><Data Name='User\tName'>bob</Data></EventData>");
        break;
    }
    ns_buf_adds(b, "</Event>\n");
}

/* What the mutations insert: constructs the scanner reads, leaves to libxml2, or that are
 * malformed. */
static const char *const scanner_snippets[] = {
    "&amp;",
    "&lt;",
    "&#10;",
    "&#x0;",
    "&#xD800;",
    "&#xFFFE;",
    "&#X41;",
    "&#;",
    "&foo;",
    "&",
    "\r\n",
    "\r",
    "\n",
    "\t",
    " ",
    "]]>",
    "]]",
    "<!--c-->",
    "<![CDATA[x<y]]>",
    "<?pi x?>",
    "<!DOCTYPE x>",
    "\x01",
    "\x7f",
    "\xC3\xA9",
    "\xC3",
    "\xC0\xAF",
    "\xED\xA0\x80",
    "\xEF\xBF\xBE",
    "\xF4\x90\x80\x80",
    "\xF0\x9F\x98\x80",
    "'",
    "\"",
    "<",
    ">",
    "/",
    "=",
    "/>",
    "</Data>",
    "<Data>",
    "<x/>",
    "</x>",
    "xmlns:a='b'",
    " a:b='1'",
    " xmlns='u'",
    " xmlns='http://www.w3.org/2000/xmlns/'",
    " xmlns='a:b'",
    " xmlns='http://'",
    " Name='dup'",
    " n='1'",
    " n=\"&amp;\"",
    " n='\xC2\x85\xEF\xBB\xBF'",
    "\xC2\x85",
    "\xC2\x9F",
    "\xEF\xBB\xBF",
    "&#x85;",
    "&#133;",
    "&#x10FFFF;",
    "&#x110000;",
    "&#0000065;",
    "a:",
    ":",
    "-",
    "1",
};

/* Deterministic pseudo-random numbers for the mutations. */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void check_same(const char *doc, size_t len, struct ns_buf *fast, struct ns_buf *slow,
                       uint64_t *nfast, uint64_t *nread)
{
    *nfast += xml_both(doc, len, 1, fast);
    xml_both(doc, len, 0, slow);
    *nread += dumped;
    if (fast->len != slow->len || memcmp(fast->data, slow->data, fast->len)) {
        fail_msg("scanner and libxml2 differ on:\n%.*s\nscanner: %.*s\nlibxml2: %.*s", (int)len,
                 doc, (int)fast->len, fast->data, (int)slow->len, slow->data);
    }
}

/* Every event the scanner reads gives what libxml2 gives (fields, skips, rejections with
 * their lines); events it does not read fall back to libxml2. Checked on hand-written
 * events, every catalogue event, and 40,000 mutations of them. */
static void test_xml_scanner_matches_libxml2(void **state)
{
    struct ns_buf doc, fast, slow;
    uint64_t nfast = 0, ntotal = 0, mut_fast = 0, nread = 0, mut_read = 0;
    uint32_t seed = 12345;
    size_t nbase;
    struct ns_buf base[64];
    (void)state;
    ns_buf_init(&doc, 0);
    ns_buf_init(&fast, 0);
    ns_buf_init(&slow, 0);
    nbase = 0;
    for (size_t k = 0; k < sizeof(scanner_reads) / sizeof(scanner_reads[0]); k++) {
        ns_buf_init(&base[nbase], 0);
        ns_buf_adds(&base[nbase++], scanner_reads[k]);
    }
    for (size_t c = 0; c < sizeof(id_cases) / sizeof(id_cases[0]) && nbase < 64; c += 3) {
        ns_buf_init(&base[nbase], 0);
        build_event(&base[nbase++], &id_cases[c], id_cases[c].a);
    }
    ns_buf_init(&base[nbase], 0);
    three_events(&base[nbase++]);
    /* unmutated: the scanner reads every event, and agrees */
    for (size_t k = 0; k < nbase; k++) {
        uint64_t before = nfast;
        check_same(base[k].data, base[k].len, &fast, &slow, &nfast, &nread);
        ntotal += k == nbase - 1 ? 3 : 1;
        if (nfast == before) {
            fail_msg("the scanner left this event to libxml2:\n%s", base[k].data);
        }
    }
    assert_int_equal(nfast, ntotal);
    /* constructs it leaves to libxml2: read by it, the same way */
    for (int w = 0; w < 7; w++) {
        uint64_t before = nfast, read_before = nread;
        scanner_leaves(&doc, w);
        check_same(doc.data, doc.len, &fast, &slow, &nfast, &nread);
        assert_int_equal(nfast, before);
        assert_int_equal(nread, read_before + 1);
    }
    /* mutated: one to three insertions, deletions or replaced bytes each */
    for (int m = 0; m < 40000; m++) {
        const struct ns_buf *b = &base[lcg(&seed) % nbase];
        int edits = 1 + (int)(lcg(&seed) % 3);
        ns_buf_reset(&doc);
        ns_buf_add(&doc, b->data, b->len);
        for (int e = 0; e < edits && doc.len; e++) {
            size_t at = lcg(&seed) % doc.len, kind = lcg(&seed) % 4;
            if (kind <= 1) {
                const char *sn =
                    scanner_snippets[lcg(&seed) % (sizeof(scanner_snippets) / sizeof(char *))];
                struct ns_buf t;
                ns_buf_init(&t, 0);
                ns_buf_add(&t, doc.data, at);
                ns_buf_adds(&t, sn);
                ns_buf_add(&t, doc.data + at, doc.len - at);
                ns_buf_reset(&doc);
                ns_buf_add(&doc, t.data, t.len);
                ns_buf_free(&t);
            } else if (kind == 2) {
                memmove(doc.data + at, doc.data + at + 1, doc.len - at - 1);
                doc.len--;
            } else {
                doc.data[at] = (char)(lcg(&seed) & 0xFF);
            }
        }
        check_same(doc.data, doc.len, &fast, &slow, &mut_fast, &mut_read);
    }
    print_message("40000 mutated documents: libxml2 read %llu events, the scanner %llu\n",
                  (unsigned long long)mut_read, (unsigned long long)mut_fast);
    /* the mutations exercised the scanner, not only the fallback */
    assert_true(mut_fast > 5000);
    for (size_t k = 0; k < nbase; k++) {
        ns_buf_free(&base[k]);
    }
    ns_buf_free(&doc);
    ns_buf_free(&fast);
    ns_buf_free(&slow);
}

static void test_provider_and_channel_rules(void **state)
{
    struct ns_buf b;
    struct collect *c = collect_new();
    (void)state;
    ns_buf_init(&b, 0);
    /* no channel: the provider decides; Netlogon only for its DC event IDs */
    xml_event(&b, NETLOGON_PROV, NULL, 8004, "DC01", 1, "2026-03-12T01:00:00Z", "UserName", "x",
              NULL);
    xml_event(&b, NETLOGON_PROV, NULL, 5827, "DC01", 2, "2026-03-12T01:00:00Z", NULL);
    xml_event(&b, NTLM_PROV, NULL, 8001, "WS01", 3, "2026-03-12T01:00:00Z", NULL);
    /* a Netlogon event in the NTLM channel is ours whatever its ID */
    xml_event(&b, NETLOGON_PROV, NTLM_CH, 4032, "DC01", 4, "2026-03-12T01:00:00Z", NULL);
    /* same IDs from other providers and channels are not */
    xml_event(&b, "Microsoft-Windows-GroupPolicy", "Microsoft-Windows-GroupPolicy/Operational",
              8001, "WS01", 5, "2026-03-12T01:00:00Z", NULL);
    xml_event(&b, "Microsoft-Windows-PrintService", NULL, 301, "WS01", 6, "2026-03-12T01:00:00Z",
              NULL);
    /* an unknown ID in the NTLM channel is kept, as role other */
    xml_event(&b, NTLM_PROV, NTLM_CH, 4099, "WS01", 7, "2026-03-12T01:00:00Z", NULL);
    assert_int_equal(parse_buffer(c, NS_FMT_XML, b.data, b.len, 0), NS_OK);
    assert_int_equal(c->n, 4);
    assert_int_equal(c->skipped, 3);
    assert_string_equal(S(&c->ev[0], NS_F_channel), NTLM_CH);
    assert_string_equal(S(&c->ev[3], NS_F_role), "other");
    ns_buf_free(&b);
    collect_free(c);
}

static void test_not_xml_at_all(void **state)
{
    static const char junk[] = "this is not an event log\nat all\n";
    struct collect *c = collect_new();
    (void)state;
    assert_int_equal(parse_buffer(c, NS_FMT_XML, junk, sizeof(junk) - 1, 0), NS_OK);
    assert_int_equal(c->n, 0);
    assert_int_equal(c->rejected, 1);
    assert_non_null(strstr(c->why[0], "no <Event>"));
    collect_free(c);
}

/* ========================================================================================== */
/* JSON                                                                                        */
/* ========================================================================================== */

static struct ns_buf read_file(const char *path)
{
    struct ns_buf b;
    char chunk[4096];
    size_t n;
    FILE *f = fopen(path, "rb");
    ns_buf_init(&b, 0);
    if (!f) {
        fail_msg("cannot open %s", path);
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        ns_buf_add(&b, chunk, n);
    }
    fclose(f);
    return b;
}

static void test_json_seed_examples(void **state)
{
    struct ns_buf b = read_file(NS_TEST_DATA "/seeds-000-examples.json");
    (void)state;
    for (size_t chunk = 0; chunk <= 5; chunk += 5) {
        struct collect *c = collect_new();
        assert_int_equal(parse_buffer(c, NS_FMT_AUTO, b.data, b.len, chunk), NS_OK);
        assert_int_equal(c->rejected, 0);
        assert_int_equal(c->n, 4);
        /* 4001 */
        assert_int_equal(c->ev[0].i[NS_F_event_id], 4001);
        assert_string_equal(S(&c->ev[0], NS_F_keywords), "0x8000000000000000");
        assert_string_equal(S(&c->ev[0], NS_F_account), "bogus");
        assert_string_equal(S(&c->ev[0], NS_F_target_service), "cifs");
        assert_string_equal(S(&c->ev[0], NS_F_client_machine), "DESKTOP-K7Q9MS2");
        assert_int_equal(c->ev[0].i[NS_F_process_pid], 4); /* "4" as a string */
        assert_null(S(&c->ev[0], NS_F_process_name));
        assert_null(S(&c->ev[0], NS_F_mechanism_oid));
        assert_string_equal(S(&c->ev[0], NS_F_activity_id), "64478093-d4f9-0001-1c81-4764f9d4dc01");
        /* 4014 */
        assert_string_equal(S(&c->ev[1], NS_F_image_name), "svchost");
        assert_int_equal(c->ev[1].i[NS_F_level], 2);
        /* 8002: CallerPID as a number */
        assert_int_equal(c->ev[2].i[NS_F_process_pid], 720);
        assert_string_equal(S(&c->ev[2], NS_F_account), "LAB-WIN11$");
        assert_string_equal(S(&c->ev[2], NS_F_process_name), "C:\\Windows\\System32\\lsass.exe");
        assert_string_equal(S(&c->ev[2], NS_F_target_machine), "LAB-WIN11");
        /* 8003: booleans and numbers */
        assert_int_equal(c->ev[3].i[NS_F_in_proc], 1);
        assert_int_equal(c->ev[3].i[NS_F_logon_type], 3);
        assert_null(S(&c->ev[3], NS_F_client_machine));
        assert_string_equal(S(&c->ev[3], NS_F_computer), "LAB-WIN11.ludus.domain");
        collect_free(c);
    }
    ns_buf_free(&b);
}

static void test_json_shapes(void **state)
{
    static const char one[] =
        "{\"system\":{\"provider\":\"Microsoft-Windows-NTLM\",\"event_id\":\"8001\","
        "\"time_created\":\"2026-03-12T02:56:00.824258+00:00\",\"event_record_id\":\"5\","
        "\"channel\":\"Microsoft-Windows-NTLM/Operational\",\"computer\":\"WS01\"},"
        "\"event_data\":{\"UserName\":\"alice\",\"CallerPID\":720.0,\"ClientLUID\":null}}";
    static const char winlog[] =
        "{\"@timestamp\":\"2026-03-12T02:56:00.824Z\",\"message\":\"m\",\"log\":{\"level\":"
        "\"warning\"},\"winlog\":{\"channel\":\"Microsoft-Windows-NTLM/Operational\","
        "\"provider_name\":\"Microsoft-Windows-NTLM\",\"event_id\":\"4021\",\"record_id\":99,"
        "\"computer_name\":\"WS02.corp\",\"event_data\":{\"Username\":\"bob\",\"NtlmVersion\":"
        "\"NTLMv1\",\"NtlmUsageId\":\"7\"},\"process\":{\"pid\":700,\"thread\":{\"id\":9}}}}";
    static const char flat[] =
        "{\"EventTime\":\"2026-03-12 02:56:00\",\"Hostname\":\"FS01\",\"EventID\":8002,"
        "\"SourceName\":\"Microsoft-Windows-NTLM\",\"Channel\":\"Microsoft-Windows-NTLM/"
        "Operational\",\"RecordNumber\":12,\"ClientUserName\":\"carol\",\"EventReceivedTime\":"
        "\"x\"}";
    struct ns_buf b;
    (void)state;
    for (int shape = 0; shape < 3; shape++) {
        struct collect *c = collect_new();
        ns_buf_init(&b, 0);
        if (shape == 0) { /* objects one per line */
            ns_buf_printf(&b, "%s\n%s\r\n%s\n", one, winlog, flat);
        } else if (shape == 1) { /* an array */
            ns_buf_printf(&b, "[\n  %s,\n  %s,\n  %s\n]\n", one, winlog, flat);
        } else { /* concatenated, no separators */
            ns_buf_printf(&b, "%s%s%s", one, winlog, flat);
        }
        assert_int_equal(parse_buffer(c, NS_FMT_AUTO, b.data, b.len, 3), NS_OK);
        assert_int_equal(c->rejected, 0);
        assert_int_equal(c->n, 3);
        assert_string_equal(S(&c->ev[0], NS_F_account), "alice");
        assert_int_equal(c->ev[0].i[NS_F_process_pid], 720);
        assert_int_equal(c->ev[0].i[NS_F_record_id], 5);
        assert_string_equal(S(&c->ev[1], NS_F_account), "bob");
        assert_string_equal(S(&c->ev[1], NS_F_ntlm_version), "NTLMv1");
        assert_int_equal(c->ev[1].i[NS_F_level], 3);
        assert_int_equal(c->ev[1].i[NS_F_exec_tid], 9);
        assert_string_equal(S(&c->ev[1], NS_F_client_machine), "WS02.corp");
        assert_string_equal(S(&c->ev[2], NS_F_account), "carol");
        assert_string_equal(S(&c->ev[2], NS_F_target_machine), "FS01");
        assert_int_equal(c->ev[2].i[NS_F_record_id], 12);
        ns_buf_free(&b);
        collect_free(c);
    }
}

static void test_json_bad_input(void **state)
{
    static const char lines[] =
        "{\"system\":{\"provider\":\"Microsoft-Windows-NTLM\",\"event_id\":8001,\"time_created\":"
        "\"2026-03-12T02:56:00Z\",\"event_record_id\":1,\"computer\":\"WS01\"},\"event_data\":{}}\n"
        "{\"system\": {\"event_id\": 8001,, }}\n"
        "garbage line\n"
        "{\"no\":\"event id\"}\n"
        "{\"system\":{\"provider\":\"Microsoft-Windows-NTLM\",\"event_id\":8001,\"time_created\":"
        "\"2026-03-12T02:56:01Z\",\"event_record_id\":2,\"computer\":\"WS01\"},\"event_data\":{}}\n"
        "{\"system\":{\"provider\":\"Microsoft-Windows-NTLM\",\"event_id\":8001,\"time_cre";
    struct collect *c = collect_new();
    (void)state;
    assert_int_equal(parse_buffer(c, NS_FMT_JSON, lines, sizeof(lines) - 1, 0), NS_OK);
    assert_int_equal(c->n, 2);
    assert_int_equal(c->rejected, 4);
    assert_string_equal(c->where[0], "line 2");
    assert_string_equal(c->where[1], "line 3");
    assert_string_equal(c->where[2], "line 4");
    assert_string_equal(c->where[3], "line 6");
    assert_non_null(strstr(c->why[3], "truncated"));
    collect_free(c);
}

/* ========================================================================================== */
/* EVTX: real files whose IDs collide with NTLM ones                                           */
/* ========================================================================================== */

static void evtx_case(const char *file, size_t expect_skipped)
{
    struct collect *c = collect_new();
    struct ns_sink sink = collect_sink(c);
    char err[256], path[512];
    snprintf(path, sizeof(path), "%s/%s", NS_SAMPLES, file);
    assert_int_equal(ns_parse_path(path, NS_FMT_AUTO, &sink, NULL, NULL, err, sizeof(err)), NS_OK);
    assert_int_equal(c->n, 0);
    assert_int_equal(c->rejected, 0);
    assert_int_equal(c->skipped, expect_skipped);
    collect_free(c);
}

static void test_evtx_samples(void **state)
{
    (void)state;
    evtx_case("grouppolicy-4001-8001.evtx", 3028);
    evtx_case("printservice-301.evtx", 14);
    evtx_case("security-4624-ntlmv1.evtx", 2261);
}

static void test_real_xml_sample(void **state)
{
    struct collect *c = collect_new();
    struct ns_sink sink = collect_sink(c);
    char err[256];
    (void)state;
    assert_int_equal(ns_parse_path(NS_SAMPLES "/ntlm-8002-real.xml", NS_FMT_AUTO, &sink, NULL, NULL,
                                   err, sizeof(err)),
                     NS_OK);
    assert_int_equal(c->n, 1);
    assert_string_equal(S(&c->ev[0], NS_F_role), "server");
    assert_string_equal(S(&c->ev[0], NS_F_outcome), "audit");
    assert_string_equal(S(&c->ev[0], NS_F_account), "DC$");
    assert_string_equal(S(&c->ev[0], NS_F_account_domain), "atc");
    assert_string_equal(S(&c->ev[0], NS_F_computer), "dc.yugoslavskiy.local");
    collect_free(c);
    /* the seed's rendering with its list markers ("- <Event") reads the same */
    c = collect_new();
    sink = collect_sink(c);
    assert_int_equal(ns_parse_path(NS_TEST_DATA "/seed-004-8002-raw.xml", NS_FMT_AUTO, &sink, NULL,
                                   NULL, err, sizeof(err)),
                     NS_OK);
    assert_int_equal(c->n, 1);
    assert_string_equal(S(&c->ev[0], NS_F_account), "DC$");
    assert_string_equal(S(&c->ev[0], NS_F_mechanism_oid), "1.3.6.1.4.1.311.2.2.10");
    collect_free(c);
}

/* The two readers of a canonical event agree; returns 1 when the fast path read text. */
static int canonical_both(const char *text, struct ns_event *fast, struct ns_event *slow)
{
    struct ns_buf tmp;
    json_error_t err;
    json_t *root;
    char why[200];
    int ok;
    ns_buf_init(&tmp, 0);
    ok = ns_event_from_canonical_text(text, strlen(text), fast, &tmp) == 0;
    ns_buf_free(&tmp);
    root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (ok) {
        assert_non_null(root);
        assert_int_equal(ns_event_from_json(root, slow, why, sizeof(why)), NS_OK);
        for (int f = 0; f < NS_F_COUNT; f++) {
            assert_int_equal(fast->has[f], slow->has[f]);
            assert_true(fast->i[f] == slow->i[f]);
            assert_int_equal(!fast->s[f], !slow->s[f]);
            if (fast->s[f]) {
                assert_string_equal(fast->s[f], slow->s[f]);
            }
        }
    }
    json_decref(root);
    return ok;
}

/* The events of a real 8002 sample and of the seeds' examples, collected. */
static void collect_agent_samples(struct ns_sink *sink, const struct collect *c)
{
    char err[256];
    assert_int_equal(ns_parse_path(NS_SAMPLES "/ntlm-8002-real.xml", NS_FMT_AUTO, sink, NULL, NULL,
                                   err, sizeof(err)),
                     NS_OK);
    assert_int_equal(ns_parse_path(NS_TEST_DATA "/seeds-000-examples.json", NS_FMT_AUTO, sink, NULL,
                                   NULL, err, sizeof(err)),
                     NS_OK);
    assert_true(c->n >= 4);
}

/* Feeds data to a parser of format fmt in pieces of step bytes (0: at once) and returns what
 * came out: every event as canonical JSON, then each rejection's place and reason. A batch
 * (found by its magic) must be read as one, and every rejection counted by the parser. */
static void parse_to_json(enum ns_format fmt, const char *data, size_t len, size_t step,
                          struct ns_buf *got)
{
    struct collect *c = collect_new();
    struct ns_sink sink = collect_sink(c);
    struct ns_parser *p = NULL;
    assert_int_equal(ns_parser_new(&p, fmt, "t", &sink), NS_OK);
    for (size_t at = 0; at < len; at += step ? step : len) {
        size_t n = step && len - at > step ? step : len - at;
        assert_int_equal(ns_parser_feed(p, data + at, n), NS_OK);
    }
    assert_int_equal(ns_parser_finish(p), NS_OK);
    if (len >= 8 && !memcmp(data, "NSBATCH1", 8)) {
        assert_int_equal(ns_parser_format(p), NS_FMT_BATCH);
        assert_int_equal(ns_parser_rejects(p), c->rejected);
    }
    ns_parser_free(p);
    ns_buf_reset(got);
    for (size_t k = 0; k < c->n && k < COLLECT_MAX; k++) {
        assert_int_equal(ns_event_to_json(&c->ev[k], got), NS_OK);
    }
    for (size_t k = 0; k < c->rejected && k < 64; k++) {
        ns_buf_printf(got, "rejected at %s: %s\n", c->where[k], c->why[k]);
    }
    collect_free(c);
}

static void canonical_feed(const char *text, size_t len, size_t step, struct ns_buf *got)
{
    parse_to_json(NS_FMT_JSON, text, len, step, got);
}

/* Agents' lines are read one canonical object per line at once; whatever the pieces the text
 * comes in, its line endings or layout, the events and the rejections (with their lines) are
 * those of the general reader. */
static void test_canonical_lines(void **state)
{
    struct collect *c = collect_new();
    struct ns_sink sink = collect_sink(c);
    struct ns_buf lf, crlf, arr, want, got;
    (void)state;
    collect_agent_samples(&sink, c);
    ns_buf_init(&lf, 0);
    ns_buf_init(&crlf, 0);
    ns_buf_init(&arr, 0);
    ns_buf_init(&want, 0);
    ns_buf_init(&got, 0);
    for (size_t k = 0; k < c->n; k++) {
        size_t at = lf.len;
        assert_int_equal(ns_event_to_json(&c->ev[k], &lf), NS_OK);
        assert_int_equal(ns_event_to_json(&c->ev[k], &want), NS_OK);
        assert_int_equal(ns_buf_add(&crlf, lf.data + at, lf.len - at - 1), NS_OK);
        assert_int_equal(ns_buf_adds(&crlf, "\r\n"), NS_OK);
        assert_int_equal(ns_buf_adds(&arr, k ? "," : "["), NS_OK);
        assert_int_equal(ns_buf_add(&arr, lf.data + at, lf.len - at - 1), NS_OK);
        if (k == 1) { /* a canonical object without its event id, then a line of garbage */
            static const char bad[] = "{\"ntlmscope\":1,\"channel\":\"C\"}\nnot an event\n";
            assert_int_equal(ns_buf_adds(&lf, bad), NS_OK);
            assert_int_equal(ns_buf_adds(&crlf, "{\"ntlmscope\":1,\"channel\":\"C\"}\r\n"
                                                "not an event\r\n"),
                             NS_OK);
        }
    }
    assert_int_equal(ns_buf_adds(&arr, "]\n"), NS_OK);
    /* the array: every event, nothing rejected */
    canonical_feed(arr.data, arr.len, 0, &got);
    assert_string_equal(got.data, want.data);
    canonical_feed(arr.data, arr.len, 5, &got);
    assert_string_equal(got.data, want.data);
    /* the lines: the events, then the two rejections on lines 3 and 4 */
    ns_buf_printf(&want, "rejected at line 3: no event_id\n");
    ns_buf_printf(&want, "rejected at line 4: unexpected 'n' between events: not an event "
                         "object\n");
    for (size_t step = 0; step < 40; step += 7) {
        canonical_feed(lf.data, lf.len, step, &got);
        assert_string_equal(got.data, want.data);
        canonical_feed(crlf.data, crlf.len, step, &got);
        assert_string_equal(got.data, want.data);
    }
    ns_buf_free(&lf);
    ns_buf_free(&crlf);
    ns_buf_free(&arr);
    ns_buf_free(&want);
    ns_buf_free(&got);
    collect_free(c);
}

/* The server reads agents' events without building a JSON tree: whatever ns_event_to_json
 * writes, the fast reader reads to the very event jansson gives; anything else (escapes of
 * every kind, invalid UTF-8, duplicates, other spacing) is left to jansson. */
static void test_canonical_fast_path(void **state)
{
    struct collect *c = collect_new();
    struct ns_sink sink = collect_sink(c);
    struct ns_event ev, fast, slow;
    struct ns_buf out;
    static const char *const base = "\"channel\":\"C\",\"event_id\":4020,\"time_created\":"
                                    "\"2026-03-12T01:00:00.000000Z\",\"record_id\":7,"
                                    "\"computer\":\"WS01\"";
    static const struct {
        const char *fields; /* after the head and the base fields */
        int fast;           /* 1: the fast path reads it */
    } texts[] = {
        {",\"account\":\"a\\ud83d\\ude00\\u00e9\\/\\b\\f\\n\\r\\t\\\"\\\\\"", 1},
        {",\"account\":\"\xce\x95\xf0\x9f\x98\x80\"", 1},
        {",\"client_luid\":\"0xffffffffffffffff\",\"exec_pid\":-9223372036854775808", 1},
        {",\"account\":\"a\\ud83d\"", 0},            /* lone surrogate */
        {",\"account\":\"\xff\"", 0},                /* invalid UTF-8 */
        {",\"account\":\"\xc0\xaf\"", 0},            /* overlong */
        {",\"account\":\"a\\u0000b\"", 0},           /* NUL */
        {",\"account\": \"a\"", 0},                  /* spacing */
        {",\"account\":\"a\",\"account\":\"b\"", 0}, /* twice */
        {",\"exec_pid\":1e3", 0},                    /* not an integer */
        {",\"exec_pid\":9223372036854775808", 0},    /* past 64 bits */
        {",\"account\":null", 0},
        {",\"nosuchfield\":1", 0},
        {",\"account\":12", 0}, /* a number for a text */
    };
    (void)state;
    ns_event_init(&ev);
    ns_event_init(&fast);
    ns_event_init(&slow);
    ns_buf_init(&out, 0);
    /* every event the test data gives, and one with every kind of hostile text */
    collect_agent_samples(&sink, c);
    for (size_t k = 0; k < c->n; k++) {
        ns_buf_reset(&out);
        assert_int_equal(ns_event_to_json(&c->ev[k], &out), NS_OK);
        assert_true(canonical_both(out.data, &fast, &slow));
    }
    assert_int_equal(ns_event_copy(&ev, &c->ev[0]), NS_OK);
    assert_int_equal(ns_event_set_text(&ev, NS_F_account,
                                       "q\"b\\s/\x01\x1f\t\n<img src=x>\xf0\x9f\x98\x80",
                                       strlen("q\"b\\s/\x01\x1f\t\n<img src=x>\xf0\x9f\x98\x80")),
                     NS_OK);
    assert_int_equal(ns_event_set_int(&ev, NS_F_exec_pid, INT64_MIN), NS_OK);
    assert_int_equal(ns_event_set_int(&ev, NS_F_client_luid, -1), NS_OK);
    ns_buf_reset(&out);
    assert_int_equal(ns_event_to_json(&ev, &out), NS_OK);
    assert_true(canonical_both(out.data, &fast, &slow));
    assert_string_equal(S(&fast, NS_F_account), S(&ev, NS_F_account));
    assert_string_equal(S(&fast, NS_F_client_luid), "0xffffffffffffffff");
    /* hand-written texts */
    for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
        ns_buf_reset(&out);
        ns_buf_printf(&out, "{\"ntlmscope\":1,%s%s}", base, texts[k].fields);
        assert_int_equal(canonical_both(out.data, &fast, &slow), texts[k].fast);
    }
    ns_buf_reset(&out);
    ns_buf_printf(&out, "{\"ntlmscope\":1,%s%s}", base, texts[0].fields);
    assert_int_equal(canonical_both(out.data, &fast, &slow), 1);
    assert_string_equal(S(&fast, NS_F_account), "a\xf0\x9f\x98\x80\xc3\xa9/\b\f\n\r\t\"\\");
    ns_buf_free(&out);
    ns_event_free(&ev);
    ns_event_free(&fast);
    ns_event_free(&slow);
    collect_free(c);
}

/* ========================================================================================== */
/* The binary batch agents ship (batch.c)                                                      */
/* ========================================================================================== */

/* A batch (or anything) read by a parser that finds its format. */
static void batch_feed(const char *data, size_t len, size_t step, struct ns_buf *got)
{
    parse_to_json(NS_FMT_AUTO, data, len, step, got);
}

/* Every event the test data gives, and one with hostile texts and extreme numbers, come out
 * of a batch as they went in (what the canonical JSON of each says), whatever the pieces the
 * batch is read in; texts are written once; batches may follow one another. */
static void test_batch_round_trip(void **state)
{
    struct collect *c = collect_new();
    struct ns_sink sink = collect_sink(c);
    struct ns_batch_writer w;
    struct ns_buf want, got, two;
    struct ns_event ev;
    static const char hostile[] =
        "q\"b\\s/\x01\x1f\t\n<img src=x>=cmd|'/c calc'!A1\xf0\x9f\x98\x80";
    size_t one, n;
    (void)state;
    ns_event_init(&ev);
    ns_buf_init(&want, 0);
    ns_buf_init(&got, 0);
    ns_buf_init(&two, 0);
    ns_batch_writer_init(&w, 0);
    collect_agent_samples(&sink, c);
    assert_int_equal(ns_event_copy(&ev, &c->ev[0]), NS_OK);
    assert_int_equal(ns_event_set_text(&ev, NS_F_account, hostile, strlen(hostile)), NS_OK);
    assert_int_equal(ns_event_set_text(&ev, NS_F_computer, "", 0), NS_OK);
    assert_int_equal(ns_event_set_int(&ev, NS_F_exec_pid, INT64_MIN), NS_OK);
    assert_int_equal(ns_event_set_int(&ev, NS_F_record_id, INT64_MAX), NS_OK);
    assert_int_equal(ns_event_set_int(&ev, NS_F_client_luid, -1), NS_OK);
    assert_int_equal(ns_event_set_int(&ev, NS_F_in_proc, 1), NS_OK);
    assert_int_equal(ns_event_set_int(&ev, NS_F_time_created, -1), NS_OK); /* 1969 */
    n = c->n;
    for (size_t k = 0; k <= n; k++) {
        const struct ns_event *e = k < n ? &c->ev[k] : &ev;
        assert_int_equal(ns_batch_put(&w, e), NS_OK);
        assert_int_equal(ns_event_to_json(e, &want), NS_OK);
    }
    assert_int_equal(w.events, n + 1);
    assert_int_equal(ns_batch_end(&w), NS_OK);
    for (size_t step = 0; step < 70; step += step < 4 ? 1 : 13) {
        batch_feed(w.out.data, w.out.len, step, &got);
        assert_string_equal(got.data, want.data);
    }
    assert_string_equal(S(&ev, NS_F_client_luid), "0xffffffffffffffff");
    assert_non_null(strstr(want.data, "\"client_luid\":\"0xffffffffffffffff\""));
    assert_non_null(strstr(want.data, "\"time_created\":\"1969-12-31T23:59:59.999999Z\""));
    /* two batches one after the other: each with its own texts */
    assert_int_equal(ns_buf_add(&two, w.out.data, w.out.len), NS_OK);
    assert_int_equal(ns_buf_add(&two, w.out.data, w.out.len), NS_OK);
    assert_int_equal(ns_buf_add(&want, want.data, want.len), NS_OK);
    batch_feed(two.data, two.len, 0, &got);
    assert_string_equal(got.data, want.data);
    batch_feed(two.data, two.len, 5, &got);
    assert_string_equal(got.data, want.data);
    /* the same event a hundred times: its texts once, each event a few bytes per field */
    ns_batch_writer_reset(&w);
    assert_int_equal(ns_batch_put(&w, &c->ev[0]), NS_OK);
    one = w.out.len;
    {
        size_t texts = w.texts.used;
        for (int k = 1; k < 100; k++) {
            assert_int_equal(ns_batch_put(&w, &c->ev[0]), NS_OK);
        }
        assert_int_equal(w.texts.used, texts);
    }
    assert_true(w.out.len < one + 99 * (size_t)(3 * NS_F_COUNT));
    ns_event_free(&ev);
    ns_buf_free(&want);
    ns_buf_free(&got);
    ns_buf_free(&two);
    ns_batch_writer_free(&w);
    collect_free(c);
}

/* Building batches by hand: records with their lengths. */
static void hb_varint(struct ns_buf *b, uint64_t u)
{
    unsigned char c;
    do {
        c = (unsigned char)(u & 0x7f);
        u >>= 7;
        if (u) {
            c |= 0x80;
        }
        assert_int_equal(ns_buf_add(b, &c, 1), NS_OK);
    } while (u);
}

static void hb_record(struct ns_buf *b, char type, const char *data, size_t len)
{
    assert_int_equal(ns_buf_add(b, &type, 1), NS_OK);
    hb_varint(b, len);
    assert_int_equal(ns_buf_add(b, data, len), NS_OK);
}

/* The fields of a good event: texts 0 (channel) and 1 (computer), then extra bytes. */
static void hb_event(struct ns_buf *b, const char *extra, size_t extra_len)
{
    struct ns_buf e;
    ns_buf_init(&e, 0);
    hb_varint(&e, NS_F_channel);
    hb_varint(&e, 0);
    hb_varint(&e, NS_F_event_id);
    hb_varint(&e, 4020 * 2);
    hb_varint(&e, NS_F_time_created);
    hb_varint(&e, (uint64_t)1773280560000000 * 2);
    hb_varint(&e, NS_F_record_id);
    hb_varint(&e, 7 * 2);
    hb_varint(&e, NS_F_computer);
    hb_varint(&e, 1);
    assert_int_equal(ns_buf_add(&e, extra, extra_len), NS_OK);
    hb_record(b, 'E', e.data, e.len);
    ns_buf_free(&e);
}

/* The head of a hand-made batch: the magic and its first texts. */
static void hb_head(struct ns_buf *b)
{
    ns_buf_reset(b);
    assert_int_equal(ns_buf_add(b, "NSBATCH1", 8), NS_OK);
    hb_record(b, 'S', "Microsoft-Windows-NTLM/Operational", 34);
    hb_record(b, 'S', "WS01", 4);
    hb_record(b, 'S', "\xff", 1);
    hb_record(b, 'S', "a\0b", 3);
}

static void hb_end(struct ns_buf *b, uint64_t events)
{
    assert_int_equal(ns_buf_add(b, "Z", 1), NS_OK);
    hb_varint(b, events);
}

/* A bad event is rejected with its number, its byte and the field at fault, and the events
 * around it are read; a bad layout stops the reading where it is, keeping what came before;
 * a batch cut anywhere gives the events before the cut and one rejection naming it. */
static void test_batch_bad_input(void **state)
{
    struct ns_buf b, got;
    char want[300];
    size_t head, first, second;
    static const struct {
        const char *extra; /* bytes after a good event's fields */
        size_t len;
        const char *why; /* the rejection */
    } bad[] = {
        {"\xc8\x01\x00", 3, "unknown field number 200"},
        {"\x0a\x01", 2, "field computer twice or out of order"},
        {"\x11\x09", 2, "field account refers to text 9; the batch has 4 before it"},
        {"\x11\x02", 2, "field account is not valid UTF-8"},
        {"\x11\x03", 2, "field account holds a NUL byte"},
        {"\x19\x02", 2, "field in_proc is not 0 or 1"},
        {"\x14\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11,
         "field process_pid: a number longer than 64 bits"},
        {"\x14\xff", 2, "field process_pid: the event ends inside it"},
    };
    (void)state;
    ns_buf_init(&b, 0);
    ns_buf_init(&got, 0);
    hb_head(&b);
    head = b.len;
    hb_event(&b, "", 0);
    first = b.len - head; /* one good event's record */
    hb_event(&b, "", 0);
    second = b.len;
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        size_t at;
        hb_head(&b);
        hb_event(&b, "", 0);
        at = b.len;
        hb_event(&b, bad[k].extra, bad[k].len);
        hb_event(&b, "", 0);
        hb_end(&b, 3);
        batch_feed(b.data, b.len, 0, &got);
        snprintf(want, sizeof(want), "rejected at event 2 at byte %zu: %s\n", at, bad[k].why);
        assert_non_null(strstr(got.data, want));
        /* the events around it: two */
        assert_non_null(strstr(strstr(got.data, "\"record_id\":7,") + 1, "\"record_id\":7,"));
        assert_null(strstr(strstr(strstr(got.data, "\"record_id\":7,") + 1, "\"record_id\":7,") + 1,
                           "\"record_id\":7,"));
    }
    /* fields it cannot do without, and a time no ISO 8601 date can write */
    {
        struct ns_buf e;
        ns_buf_init(&e, 0);
        hb_head(&b);
        hb_varint(&e, NS_F_channel);
        hb_varint(&e, 0);
        hb_record(&b, 'E', e.data, e.len);
        ns_buf_reset(&e);
        hb_varint(&e, NS_F_channel);
        hb_varint(&e, 0);
        hb_varint(&e, NS_F_event_id);
        hb_varint(&e, 2);
        hb_varint(&e, NS_F_time_created);
        hb_varint(&e, (uint64_t)INT64_MAX - 1);
        hb_record(&b, 'E', e.data, e.len);
        hb_end(&b, 2);
        ns_buf_free(&e);
        batch_feed(b.data, b.len, 3, &got);
        snprintf(want, sizeof(want), "rejected at event 1 at byte %zu: no event_id\n", head);
        assert_non_null(strstr(got.data, want));
        assert_non_null(strstr(got.data, "field time_created is out of the years 0000 to 9999"));
    }
    /* layouts: an unknown record, a wrong count, something after the end, a huge record */
    hb_head(&b);
    hb_event(&b, "", 0);
    assert_int_equal(ns_buf_add(&b, "Q\x01x", 3), NS_OK);
    hb_event(&b, "", 0);
    batch_feed(b.data, b.len, 0, &got);
    assert_non_null(strstr(got.data, "\"record_id\":7,"));
    assert_null(strstr(strstr(got.data, "\"record_id\":7,") + 1, "\"record_id\":7,"));
    snprintf(want, sizeof(want), "rejected at byte %zu: unknown record type 0x51\n", head + first);
    assert_non_null(strstr(got.data, want));
    hb_head(&b);
    hb_event(&b, "", 0);
    hb_end(&b, 3);
    batch_feed(b.data, b.len, 1, &got);
    snprintf(want, sizeof(want), "rejected at byte %zu: the batch ends saying 3 events; 1 came",
             head + first);
    assert_non_null(strstr(got.data, want));
    hb_head(&b);
    hb_end(&b, 0);
    assert_int_equal(ns_buf_adds(&b, "<Event>"), NS_OK);
    batch_feed(b.data, b.len, 0, &got);
    snprintf(want, sizeof(want),
             "rejected at byte %zu: not the start of an ntlmscope batch "
             "(\"NSBATCH1\")\n",
             head + 2);
    assert_string_equal(got.data, want);
    hb_head(&b);
    assert_int_equal(ns_buf_add(&b, "S\xff\xff\xff\xff\x0f", 6), NS_OK);
    batch_feed(b.data, b.len, 0, &got);
    snprintf(want, sizeof(want), "rejected at byte %zu: a record of 4294967295 bytes", head);
    assert_non_null(strstr(got.data, want));
    /* cut anywhere: the events before the cut, and one rejection saying where */
    hb_head(&b);
    hb_event(&b, "", 0);
    hb_event(&b, "", 0);
    hb_end(&b, 2);
    for (size_t cut = 8; cut < b.len; cut++) {
        size_t events = cut >= second ? 2 : cut >= head + first ? 1 : 0;
        const char *p = got.data;
        batch_feed(b.data, cut, cut % 3, &got);
        for (size_t k = 0; k < events; k++) {
            assert_non_null(p = strstr(p, "\"record_id\":7,"));
            p++;
        }
        assert_null(strstr(p, "\"record_id\":7,"));
        assert_non_null(strstr(got.data, "truncated: the input ends"));
        assert_null(strstr(strstr(got.data, "rejected") + 1, "rejected"));
    }
    batch_feed(b.data, b.len, 0, &got);
    assert_null(strstr(got.data, "rejected"));
    /* any byte changed to anything: at most the two events, and a rejection or both events */
    for (size_t at = 0; at < b.len; at++) {
        static const unsigned char to[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 'E', 'S', 'Z'};
        for (size_t k = 0; k < sizeof(to); k++) {
            const char *p = got.data;
            size_t events = 0;
            char keep = b.data[at];
            b.data[at] = (char)to[k];
            batch_feed(b.data, b.len, at % 5, &got);
            b.data[at] = keep;
            while ((p = strstr(p, "{\"ntlmscope\":1")) != NULL) {
                events++;
                p++;
            }
            assert_true(events <= 2);
            assert_true(events == 2 || strstr(got.data, "rejected at "));
        }
    }
    /* texts of 7 and 2 MB, fed as 4 MB and then all the rest at once (more than the reader
     * holds beside the first text's start): the event using one is too large, the reading
     * goes on */
    {
        size_t big = (size_t)7 << 20;
        char *text = malloc(big);
        struct ns_parser *p = NULL;
        struct collect *c = collect_new();
        struct ns_sink sink = collect_sink(c);
        assert_non_null(text);
        memset(text, 'x', big);
        hb_head(&b);
        hb_record(&b, 'S', text, big);             /* text 4 */
        hb_record(&b, 'S', text, (size_t)2 << 20); /* text 5 */
        hb_event(&b, "\x11\x04", 2);               /* account = the big text */
        hb_event(&b, "", 0);
        hb_end(&b, 2);
        assert_int_equal(ns_parser_new(&p, NS_FMT_AUTO, "t", &sink), NS_OK);
        assert_int_equal(ns_parser_feed(p, b.data, (size_t)4 << 20), NS_OK);
        assert_int_equal(ns_parser_feed(p, b.data + ((size_t)4 << 20), b.len - ((size_t)4 << 20)),
                         NS_OK);
        assert_int_equal(ns_parser_finish(p), NS_OK);
        ns_parser_free(p);
        assert_int_equal(c->n, 1);
        assert_int_equal(c->rejected, 1);
        assert_string_equal(c->why[0], "event too large");
        collect_free(c);
        free(text);
    }
    ns_buf_free(&b);
    ns_buf_free(&got);
}

/* A batch that reaches its size ends there: it holds exactly the events put before, and the
 * writer says so; the format is found by its magic and by name. */
static void test_batch_size_cap(void **state)
{
    struct collect *c = collect_new();
    struct ns_sink sink = collect_sink(c);
    struct ns_batch_writer w;
    struct ns_buf want, got;
    int rc = NS_OK;
    uint64_t n = 0;
    (void)state;
    ns_buf_init(&want, 0);
    ns_buf_init(&got, 0);
    collect_agent_samples(&sink, c);
    ns_batch_writer_init(&w, 4096);
    while ((rc = ns_batch_put(&w, &c->ev[n % c->n])) == NS_OK) {
        assert_int_equal(ns_event_to_json(&c->ev[n % c->n], &want), NS_OK);
        n++;
    }
    assert_int_equal(rc, NS_ETOOBIG);
    assert_true(n >= 3);
    assert_int_equal(w.events, n);
    assert_int_equal(ns_batch_end(&w), NS_OK);
    assert_true(w.out.len <= 4096);
    batch_feed(w.out.data, w.out.len, 0, &got);
    assert_string_equal(got.data, want.data);
    assert_int_equal(ns_format_detect((const unsigned char *)w.out.data, 8), NS_FMT_BATCH);
    assert_int_equal(ns_format_from_name("batch"), NS_FMT_BATCH);
    assert_string_equal(ns_format_name(NS_FMT_BATCH), "batch");
    ns_batch_writer_free(&w);
    ns_buf_free(&want);
    ns_buf_free(&got);
    collect_free(c);
}

static void test_unreadable_file(void **state)
{
    struct collect *c = collect_new();
    struct ns_sink sink = collect_sink(c);
    char err[256];
    (void)state;
    assert_int_equal(
        ns_parse_path("/nonexistent/file.xml", NS_FMT_AUTO, &sink, NULL, NULL, err, sizeof(err)),
        NS_EIO);
    assert_non_null(strstr(err, "/nonexistent/file.xml"));
    assert_int_equal(ns_parse_path(NS_TEST_DATA "/seed-001-8002.json", NS_FMT_EVTX, &sink, NULL,
                                   NULL, err, sizeof(err)),
                     NS_EIO);
    collect_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_field_by_name),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_every_event_id_both_renderings),
        cmocka_unit_test(test_xml_no_root_and_root),
        cmocka_unit_test(test_xml_utf16_bom_crlf),
        cmocka_unit_test(test_xml_pretty_rendering_info_and_byte_chunks),
        cmocka_unit_test(test_xml_truncated_and_malformed),
        cmocka_unit_test(test_xml_no_entities_no_network),
        cmocka_unit_test(test_xml_hostile_names),
        cmocka_unit_test(test_xml_scanner_matches_libxml2),
        cmocka_unit_test(test_provider_and_channel_rules),
        cmocka_unit_test(test_not_xml_at_all),
        cmocka_unit_test(test_json_seed_examples),
        cmocka_unit_test(test_json_shapes),
        cmocka_unit_test(test_json_bad_input),
        cmocka_unit_test(test_evtx_samples),
        cmocka_unit_test(test_real_xml_sample),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_canonical_fast_path),
        cmocka_unit_test(test_canonical_lines),
        cmocka_unit_test(test_batch_round_trip),
        cmocka_unit_test(test_batch_bad_input),
        cmocka_unit_test(test_batch_size_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
