/*
 * normalize.c - turns a raw event (any parser) into the canonical event: the one alias table
 * of EventData names, value conversion, role-specific who/why/where, and `extra`.
 */
#include "ns_event.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <string.h>

#define NS_CHANNEL "Microsoft-Windows-NTLM/Operational"
#define NS_PROVIDER "Microsoft-Windows-NTLM"
#define NS_PROVIDER_NETLOGON "Microsoft-Windows-Security-Netlogon"

/* Pseudo-field: an SPN-style target ("cifs/fs01.corp") split into service and host. */
#define NS_P_SPN (NS_F_COUNT + 1)

/* Shape groups used by the alias table. */
#define SH_ENH (NS_SH_ENH_CLIENT | NS_SH_ENH_SERVER | NS_SH_ENH_DC)
#define SH_LEGACY_CLIENT NS_SH_CLIENT

/* One row: in events of these shapes, any of these EventData names fills this field. */
struct alias_row {
    unsigned shapes;   /* enum ns_shape bits */
    int field;         /* enum ns_field, or NS_P_SPN */
    const char *names; /* "A|B|C": the renderings Windows uses (case, '_' and ' ' ignored) */
};

/* The alias table: both renderings of every field of ntlm-events.md, by shape. */
static const struct alias_row alias_table[] = {
    /* 100, 101, 301: authentication policy */
    {NS_SH_POLICY, NS_F_account, "Account_Name|AccountName"},
    {NS_SH_POLICY, NS_F_client_machine, "Device_Name|DeviceName"},
    {NS_SH_POLICY, NS_F_status, "Error_Code|Status"},
    {NS_SH_POLICY, NS_F_silo_name, "Silo_Name|SiloName"},
    {NS_SH_POLICY, NS_F_policy_name, "PolicyName|Policy_Name"},
    /* 4001, 4015, 4024, 4025, 8001: outgoing (client) */
    {NS_SH_CLIENT, NS_P_SPN, "TargetName|Target_server"},
    {NS_SH_CLIENT, NS_F_account, "UserName|Supplied_user"},
    {NS_SH_CLIENT, NS_F_account_domain, "DomainName|Supplied_domain"},
    {NS_SH_CLIENT, NS_F_process_pid, "CallerPID|PID_of_client_process"},
    {NS_SH_CLIENT, NS_F_process_name, "ProcessName|Name_of_client_process"},
    {NS_SH_CLIENT, NS_F_client_luid, "ClientLUID|LUID_of_client_process"},
    {NS_SH_CLIENT, NS_F_process_user, "ClientUserName|User_identity_of_client_process"},
    {NS_SH_CLIENT, NS_F_process_domain,
     "ClientDomainName|Domain_name_of_user_identity_of_client_process"},
    {NS_SH_CLIENT | NS_SH_SERVER | NS_SH_DOMAIN, NS_F_mechanism_oid,
     "MechanismOID|Mechanism_OID|Mechanism"},
    /* 4002, 8002: incoming (server) */
    {NS_SH_SERVER | NS_SH_MINSEC, NS_F_process_pid, "CallerPID|Calling_process_PID"},
    {NS_SH_SERVER | NS_SH_MINSEC, NS_F_process_name, "ProcessName|Calling_process_name"},
    {NS_SH_SERVER, NS_F_client_luid, "ClientLUID|Calling_process_LUID"},
    {NS_SH_SERVER, NS_F_account, "ClientUserName|Calling_process_user_identity"},
    {NS_SH_SERVER, NS_F_account_domain, "ClientDomainName|Calling_process_domain_identity"},
    /* 4003, 8003: domain (DC) */
    {NS_SH_DOMAIN, NS_F_account, "UserName|User"},
    {NS_SH_DOMAIN, NS_F_account_domain, "DomainName|Domain"},
    {NS_SH_DOMAIN, NS_F_client_machine, "Workstation|WorkstationName"},
    {NS_SH_DOMAIN, NS_F_process_pid, "CallerPID|PID"},
    {NS_SH_DOMAIN, NS_F_process_name, "ProcessName|Process"},
    {NS_SH_DOMAIN, NS_F_logon_type, "LogonType|Logon_type"},
    {NS_SH_DOMAIN, NS_F_in_proc, "InProc"},
    /* 4010, 4011: minimum security */
    {NS_SH_MINSEC, NS_F_negotiated_security, "NegotiatedSecurity|Negotiated_Security_Flags"},
    {NS_SH_MINSEC, NS_F_required_security, "RequiredSecurity|Minimum_Security_Flags"},
    /* 4014: Credential Guard */
    {NS_SH_CREDGUARD, NS_F_image_name, "ImageName|Calling_Process_Name"},
    {NS_SH_CREDGUARD, NS_F_svchost_tag, "SvcHostTag|Service_Host_Tag"},
    /* 4020-4023: enhanced client and server */
    {NS_SH_ENH_CLIENT | NS_SH_ENH_SERVER, NS_F_process_name, "ProcessName|Process_Name"},
    {NS_SH_ENH_CLIENT | NS_SH_ENH_SERVER, NS_F_process_pid, "ProcessPID|Process_PID|ProcessId"},
    {NS_SH_ENH_CLIENT | NS_SH_ENH_SERVER, NS_F_account, "Username|User"},
    {NS_SH_ENH_CLIENT | NS_SH_ENH_SERVER, NS_F_account_domain, "DomainName|Domain"},
    {NS_SH_ENH_CLIENT, NS_F_client_machine, "Hostname|Host_Name"},
    {NS_SH_ENH_CLIENT, NS_F_sign_on, "SingleSignOn|SignOnType|Sign_On_Type"},
    {NS_SH_ENH_CLIENT | NS_SH_ENH_SERVER, NS_F_target_machine, "TargetMachine|Target_Machine"},
    {NS_SH_ENH_CLIENT | NS_SH_ENH_SERVER, NS_F_target_domain, "TargetDomain|Target_Domain"},
    {NS_SH_ENH_CLIENT, NS_P_SPN, "TargetService|TargetResource|Target_Resource"},
    {NS_SH_ENH_CLIENT, NS_F_target_ip, "TargetIP|Target_IP"},
    {NS_SH_ENH_CLIENT, NS_F_target_network_name, "TargetNetworkName|Target_Network_Name"},
    {NS_SH_ENH_CLIENT, NS_F_reason_id, "NtlmUsageId|UsageId|ReasonId|Reason_ID"},
    {NS_SH_ENH_CLIENT, NS_F_reason_text, "NtlmUsageReason|UsageReason|Reason"},
    {NS_SH_ENH_SERVER, NS_F_client_machine, "RemoteClientMachine|ClientMachine|Client_Machine"},
    {NS_SH_ENH_SERVER, NS_F_client_ip, "ClientIP|Client_IP"},
    {NS_SH_ENH_SERVER, NS_F_client_network_name, "ClientNetworkName|Client_Network_Name"},
    /* 4030-4033: enhanced domain controller */
    {NS_SH_ENH_DC, NS_F_account, "ClientName|ClientUserName|Client_Name|UserName"},
    {NS_SH_ENH_DC, NS_F_account_domain, "ClientDomain|ClientDomainName|Client_Domain"},
    {NS_SH_ENH_DC, NS_F_client_machine, "ClientMachine|ClientMachineName|Workstation"},
    {NS_SH_ENH_DC, NS_F_server_name, "ServerName|Server_Name|ServerMachine"},
    {NS_SH_ENH_DC, NS_F_server_domain, "ServerDomain|Server_Domain|ServerDomainName"},
    {NS_SH_ENH_DC, NS_F_server_ip, "ServerIP|Server_IP"},
    {NS_SH_ENH_DC, NS_F_server_os, "ServerOS|Server_OS|ServerOperatingSystem"},
    {NS_SH_ENH_DC | NS_SH_NETLOGON, NS_F_secure_channel_type,
     "SecureChannelType|SChannelType|Secure_Channel_Type"},
    {NS_SH_ENH_DC, NS_F_farside_name, "FarsideName|Farside_Name"},
    {NS_SH_ENH_DC, NS_F_farside_domain, "FarsideDomain|Farside_Domain"},
    {NS_SH_ENH_DC, NS_F_farside_ip, "FarsideIP|Farside_IP"},
    /* the NTLM security block of 4020-4033 */
    {SH_ENH, NS_F_negotiated_flags, "NegotiatedFlags|Negotiated_Flags"},
    {SH_ENH, NS_F_ntlm_version, "NtlmVersion|NTLM_Version"},
    {SH_ENH, NS_F_session_key, "SessionKeyStatus|Session_Key_Status|SessionKey"},
    {SH_ENH, NS_F_channel_binding, "ChannelBindingStatus|ChannelBinding|Channel_Binding"},
    {SH_ENH, NS_F_service_binding, "ServiceBinding|Service_Binding"},
    {SH_ENH, NS_F_mic, "MicStatus|MIC_Status|Mic"},
    {SH_ENH, NS_F_av_flags, "AvlFlags|AvFlags|Av_Flags"},
    {SH_ENH, NS_F_av_flags_str, "AvlFlagsStr|AvFlagsStr|AvFlagsString|AvFlags_String"},
    {NS_SH_ENH_SERVER | NS_SH_ENH_DC, NS_F_status, "Status|StatusCode|Status_Code"},
    {NS_SH_ENH_SERVER | NS_SH_ENH_DC, NS_F_status_msg, "StatusMsg|StatusMessage|Status_Message"},
    /* 4004-4006, 8004-8006: Netlogon pass-through */
    {NS_SH_NETLOGON, NS_F_server_name, "SChannelName|SecureChannelName|Secure_Channel_Name"},
    {NS_SH_NETLOGON, NS_F_account, "UserName|User"},
    {NS_SH_NETLOGON, NS_F_account_domain, "DomainName|Domain"},
    {NS_SH_NETLOGON, NS_F_client_machine, "WorkstationName|Workstation"},
};

#define ALIAS_ROWS (sizeof(alias_table) / sizeof(alias_table[0]))
#define ALIAS_MAX 512
#define NAME_MAX_LEN 96

/* The alias table with every name folded (lower case, no '_' or ' '), built once, and a
 * hash index over the folded names. */
struct folded_alias {
    unsigned shapes;         /* from the row */
    int field;               /* from the row */
    uint32_t hash;           /* of name */
    int next;                /* next entry in the same hash bucket, or -1 */
    char name[NAME_MAX_LEN]; /* folded name */
};
#define ALIAS_BUCKETS 1024 /* power of two, well above the number of names */
static struct folded_alias folded[ALIAS_MAX];
static size_t nfolded;
static int buckets[ALIAS_BUCKETS];
static pthread_once_t folded_once = PTHREAD_ONCE_INIT;

/* Folds a field name: lower case, spaces, '_' and '-' dropped, and hashes it (FNV-1a).
 * Returns 0 when too long. */
static int fold_name(const char *in, size_t len, char out[NAME_MAX_LEN], uint32_t *hash)
{
    size_t o = 0;
    uint32_t h = 2166136261u;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)in[k];
        if (c == '_' || c == ' ' || c == '-' || c == '\t') {
            continue;
        }
        if (o + 1 >= NAME_MAX_LEN) {
            return 0;
        }
        c = (unsigned char)tolower(c);
        out[o++] = (char)c;
        h = (h ^ c) * 16777619u;
    }
    out[o] = '\0';
    *hash = h;
    return 1;
}

static void build_folded(void)
{
    for (size_t b = 0; b < ALIAS_BUCKETS; b++) {
        buckets[b] = -1;
    }
    for (size_t r = 0; r < ALIAS_ROWS; r++) {
        const char *p = alias_table[r].names;
        while (*p && nfolded < ALIAS_MAX) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            struct folded_alias *fa = &folded[nfolded];
            fa->shapes = alias_table[r].shapes;
            fa->field = alias_table[r].field;
            if (fold_name(p, len, fa->name, &fa->hash)) {
                size_t b = fa->hash & (ALIAS_BUCKETS - 1);
                fa->next = buckets[b];
                buckets[b] = (int)nfolded;
                nfolded++;
            }
            p += len;
            if (*p == '|') {
                p++;
            }
        }
    }
}

/* Returns the field for a folded name in this shape, or -1. */
static int alias_lookup(unsigned shape, const char *fname, uint32_t hash)
{
    for (int k = buckets[hash & (ALIAS_BUCKETS - 1)]; k >= 0; k = folded[k].next) {
        if ((folded[k].shapes & shape) && folded[k].hash == hash &&
            strcmp(folded[k].name, fname) == 0) {
            return folded[k].field;
        }
    }
    return -1;
}

/* ========================================================================================== */
/* Value helpers                                                                               */
/* ========================================================================================== */

/* Trims blanks; returns 1 when what remains is a NULL token ("", "-", "(NULL)", "NULL"). */
static int trim_value(const char *v, const char **start, size_t *len)
{
    const char *s = v, *e;
    if (!v) {
        return 1;
    }
    while (*s && isspace((unsigned char)*s)) {
        s++;
    }
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) {
        e--;
    }
    *start = s;
    *len = (size_t)(e - s);
    if (*len == 0 || (*len == 1 && *s == '-')) {
        return 1;
    }
    if ((*len == 6 && strncasecmp(s, "(NULL)", 6) == 0) ||
        (*len == 4 && strncmp(s, "NULL", 4) == 0)) {
        return 1;
    }
    return 0;
}

static int parse_bool(const char *s, size_t len, int64_t *out)
{
    static const struct {
        const char *word; /* accepted spelling */
        int value;        /* its meaning */
    } words[] = {{"true", 1}, {"false", 0}, {"1", 1},  {"0", 0},
                 {"yes", 1},  {"no", 0},    {"on", 1}, {"off", 0}};
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
        if (strlen(words[k].word) == len && strncasecmp(words[k].word, s, len) == 0) {
            *out = words[k].value;
            return NS_OK;
        }
    }
    return NS_EPARSE;
}

/* Canonical spelling of an NTLM version ("NTLM V1" -> "NTLMv1"), or NULL to keep as is. */
static const char *canon_version(const char *s, size_t len)
{
    char f[NAME_MAX_LEN];
    uint32_t h;
    if (len >= 32 || !fold_name(s, len, f, &h)) {
        return NULL;
    }
    if (!strcmp(f, "ntlmv1") || !strcmp(f, "v1") || !strcmp(f, "1") || !strcmp(f, "ntlm1")) {
        return "NTLMv1";
    }
    if (!strcmp(f, "ntlmv2") || !strcmp(f, "v2") || !strcmp(f, "2") || !strcmp(f, "ntlm2")) {
        return "NTLMv2";
    }
    if (!strcmp(f, "lm") || !strcmp(f, "lanman")) {
        return "LM";
    }
    return NULL;
}

static int is_machine_field(int f)
{
    return f == NS_F_client_machine || f == NS_F_target_machine || f == NS_F_server_name ||
           f == NS_F_farside_name;
}

/* Converts and stores one value. Returns NS_OK, NS_EPARSE (value kept in extra by the
 * caller) or NS_ETOOBIG. */
static int set_value(struct ns_event *ev, int f, const char *s, size_t len)
{
    int64_t v;
    char tmp[64];
    switch (ns_fields[f].kind) {
    case NS_K_TEXT:
        if (is_machine_field(f)) {
            while (len && *s == '\\') {
                s++;
                len--;
            }
            if (!len) {
                return NS_OK;
            }
        }
        if (f == NS_F_ntlm_version) {
            const char *c = canon_version(s, len);
            if (c) {
                return ns_event_set_text(ev, f, c, strlen(c));
            }
        }
        return ns_event_set_text(ev, f, s, len);
    case NS_K_INT:
    case NS_K_HEX:
    case NS_K_TIME:
        if (len >= sizeof(tmp)) {
            return NS_EPARSE;
        }
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        if (ns_fields[f].kind == NS_K_TIME) {
            if (ns_parse_time(tmp, &v) != NS_OK) {
                return NS_EPARSE;
            }
        } else if (ns_parse_int(tmp, &v) != NS_OK) {
            /* JSON shippers may render integers as reals ("720.0") */
            char *end = strchr(tmp, '.');
            if (!end || strspn(end + 1, "0") != strlen(end + 1)) {
                return NS_EPARSE;
            }
            *end = '\0';
            if (ns_parse_int(tmp, &v) != NS_OK) {
                return NS_EPARSE;
            }
        }
        return ns_event_set_int(ev, f, v);
    case NS_K_BOOL:
        if (parse_bool(s, len, &v) != NS_OK) {
            return NS_EPARSE;
        }
        return ns_event_set_int(ev, f, v);
    }
    return NS_EPARSE;
}

/* Appends "name":value to the extra JSON object being built. */
static int json_escape_into(struct ns_buf *b, const char *s, size_t len)
{
    int rc = ns_buf_add(b, "\"", 1);
    for (size_t k = 0; k < len && rc == NS_OK; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rc = ns_buf_add(b, esc, 2);
        } else if (c < 0x20) {
            rc = ns_buf_printf(b, "\\u%04x", c);
        } else {
            rc = ns_buf_add(b, &s[k], 1);
        }
    }
    return rc == NS_OK ? ns_buf_add(b, "\"", 1) : rc;
}

static int extra_add(struct ns_buf *b, const char *name, const char *value)
{
    int rc = ns_buf_add(b, b->len ? "," : "{", 1);
    if (rc == NS_OK) {
        rc = json_escape_into(b, name, strlen(name));
    }
    if (rc == NS_OK) {
        rc = ns_buf_add(b, ":", 1);
    }
    if (rc == NS_OK) {
        rc = value ? json_escape_into(b, value, strlen(value)) : ns_buf_adds(b, "null");
    }
    return rc;
}

/* Splits "svc/host[:port][/extra][@REALM]" into the service class and the host. */
static void split_spn(const char *s, size_t len, const char **svc, size_t *svclen,
                      const char **host, size_t *hostlen)
{
    const char *slash = memchr(s, '/', len);
    const char *h = s, *end;
    *svc = NULL;
    *svclen = 0;
    if (slash) {
        *svc = s;
        *svclen = (size_t)(slash - s);
        h = slash + 1;
    }
    end = s + len;
    if (h < end && *h == '[') {
        const char *close = memchr(h, ']', (size_t)(end - h));
        if (close) {
            *host = h + 1;
            *hostlen = (size_t)(close - h - 1);
            return;
        }
    }
    {
        const char *p = h;
        int colons = 0;
        for (const char *q = h; q < end && *q != '/' && *q != '@'; q++) {
            colons += *q == ':';
        }
        while (p < end && *p != '/' && *p != '@' && (colons > 1 || *p != ':')) {
            p++;
        }
        *host = h;
        *hostlen = (size_t)(p - h);
    }
}

static int is_ip_literal(const char *s)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

/* A stable id for events that carry no record id: FNV-1a over what identifies them. */
static int64_t content_id(const struct ns_raw *raw)
{
    uint64_t h = 1469598103934665603ull;
    for (int k = 0; k < NS_S_COUNT; k++) {
        const char *p = raw->sys[k] ? raw->sys[k] : "";
        for (; *p; p++) {
            h = (h ^ (unsigned char)*p) * 1099511628211ull;
        }
        h = (h ^ 0xff) * 1099511628211ull;
    }
    for (size_t d = 0; d < raw->ndata; d++) {
        const char *parts[2] = {raw->data[d].name, raw->data[d].value ? raw->data[d].value : ""};
        for (int k = 0; k < 2; k++) {
            for (const char *p = parts[k]; *p; p++) {
                h = (h ^ (unsigned char)*p) * 1099511628211ull;
            }
            h = (h ^ 0xfe) * 1099511628211ull;
        }
    }
    return -(int64_t)(h & 0x3fffffffffffffffull) - 1;
}

/* ========================================================================================== */
/* Normalization                                                                               */
/* ========================================================================================== */

int ns_raw_is_ntlm(const struct ns_raw *raw)
{
    const char *ch = raw->sys[NS_S_CHANNEL], *prov = raw->sys[NS_S_PROVIDER];
    int64_t id;
    const struct ns_catalog_entry *cat;
    if (ch && *ch) {
        return ns_strieq(ch, NS_CHANNEL);
    }
    if (!prov) {
        return 0;
    }
    if (ns_strieq(prov, NS_PROVIDER)) {
        return 1;
    }
    if (ns_strieq(prov, NS_PROVIDER_NETLOGON) && raw->sys[NS_S_EVENT_ID] &&
        ns_parse_int(raw->sys[NS_S_EVENT_ID], &id) == NS_OK) {
        cat = ns_catalog_find((int)id);
        return cat && cat->netlogon;
    }
    return 0;
}

/* System values: raw slot -> canonical field. */
static const struct {
    enum ns_sys sys;     /* raw slot */
    enum ns_field field; /* canonical field */
} sys_map[] = {
    {NS_S_PROVIDER, NS_F_provider},   {NS_S_EVENT_ID, NS_F_event_id},
    {NS_S_VERSION, NS_F_version},     {NS_S_LEVEL, NS_F_level},
    {NS_S_TASK, NS_F_task},           {NS_S_OPCODE, NS_F_opcode},
    {NS_S_KEYWORDS, NS_F_keywords},   {NS_S_TIME, NS_F_time_created},
    {NS_S_RECORD_ID, NS_F_record_id}, {NS_S_ACTIVITY_ID, NS_F_activity_id},
    {NS_S_EXEC_PID, NS_F_exec_pid},   {NS_S_EXEC_TID, NS_F_exec_tid},
    {NS_S_CHANNEL, NS_F_channel},     {NS_S_COMPUTER, NS_F_computer},
    {NS_S_USER_SID, NS_F_user_sid},   {NS_S_MESSAGE, NS_F_message},
};

enum ns_verdict ns_normalize(const struct ns_raw *raw, struct ns_event *ev, char *why,
                             size_t whylen)
{
    const struct ns_catalog_entry *cat;
    struct ns_buf extra;
    unsigned shape;
    const char *spn_svc = NULL, *spn_host = NULL;
    size_t spn_svclen = 0, spn_hostlen = 0;
    char fname[NAME_MAX_LEN];
    enum ns_verdict verdict = NS_V_REJECT;
    int rc = NS_OK;

    pthread_once(&folded_once, build_folded);
    if (!ns_raw_is_ntlm(raw)) {
        return NS_V_SKIP;
    }
    ns_event_reset(ev);
    ns_buf_init(&extra, NS_RAW_MAX_BYTES * 2);

    /* system values */
    for (size_t k = 0; k < sizeof(sys_map) / sizeof(sys_map[0]); k++) {
        const char *s;
        size_t len;
        const char *v = raw->sys[sys_map[k].sys];
        if (sys_map[k].field == NS_F_message) {
            if (v && *v) {
                rc = ns_event_set_text(ev, NS_F_message, v, strlen(v));
            }
        } else if (!trim_value(v, &s, &len)) {
            rc = set_value(ev, sys_map[k].field, s, len);
            if (rc == NS_EPARSE) {
                if (sys_map[k].field == NS_F_time_created || sys_map[k].field == NS_F_event_id) {
                    snprintf(why, whylen, "%s \"%.60s\" is not valid",
                             ns_fields[sys_map[k].field].name, v);
                    goto out;
                }
                rc = extra_add(&extra, ns_fields[sys_map[k].field].name, v);
            }
        }
        if (rc != NS_OK) {
            snprintf(why, whylen, "event too large (%s)", ns_rc_str(rc));
            goto out;
        }
    }
    if (!ev->has[NS_F_event_id]) {
        snprintf(why, whylen, "no EventID");
        goto out;
    }
    if (!ev->has[NS_F_time_created]) {
        snprintf(why, whylen, "no TimeCreated");
        goto out;
    }
    if (!ev->has[NS_F_computer]) {
        snprintf(why, whylen, "no Computer");
        goto out;
    }
    if (!ev->has[NS_F_channel]) {
        rc = ns_event_set_text(ev, NS_F_channel, NS_CHANNEL, strlen(NS_CHANNEL));
    }
    if (rc == NS_OK && !ev->has[NS_F_record_id]) {
        rc = ns_event_set_int(ev, NS_F_record_id, content_id(raw));
    }

    /* catalogue */
    cat = ns_catalog_find((int)ev->i[NS_F_event_id]);
    shape = cat ? (unsigned)cat->shape : 0;
    if (rc == NS_OK) {
        const char *role = cat ? cat->role : "other";
        rc = ns_event_set_text(ev, NS_F_role, role, strlen(role));
    }
    if (rc == NS_OK && cat) {
        rc = ns_event_set_text(ev, NS_F_outcome, cat->outcome, strlen(cat->outcome));
    }
    if (rc == NS_OK && cat && !ev->has[NS_F_level]) {
        rc = ns_event_set_int(ev, NS_F_level, cat->level);
    }

    /* EventData through the alias table */
    for (size_t d = 0; d < raw->ndata && rc == NS_OK; d++) {
        const struct ns_raw_data *rd = &raw->data[d];
        const char *s;
        size_t len;
        int f = -1;
        uint32_t h;
        if (fold_name(rd->name, strlen(rd->name), fname, &h) && fname[0]) {
            f = alias_lookup(shape, fname, h);
        }
        if (f < 0) {
            rc = extra_add(&extra, rd->name, rd->value);
            continue;
        }
        if (trim_value(rd->value, &s, &len)) {
            continue; /* NULL token: the field stays NULL */
        }
        if (f == NS_P_SPN) {
            if (!spn_host) {
                split_spn(s, len, &spn_svc, &spn_svclen, &spn_host, &spn_hostlen);
                if (spn_svclen == 0) {
                    spn_svc = NULL;
                }
            } else {
                rc = extra_add(&extra, rd->name, rd->value);
            }
            continue;
        }
        if (ev->has[f]) {
            rc = extra_add(&extra, rd->name, rd->value); /* both renderings present */
            continue;
        }
        rc = set_value(ev, f, s, len);
        if (rc == NS_EPARSE) {
            rc = extra_add(&extra, rd->name, rd->value); /* kept, not lost */
        }
    }
    if (rc == NS_OK && raw->too_many) {
        rc = extra_add(&extra, "ntlmscope_truncated", "more than 256 EventData fields");
    }
    if (rc != NS_OK) {
        snprintf(why, whylen, "event too large (%s)", ns_rc_str(rc));
        goto out;
    }

    /* where: SPN split, role defaults */
    if (spn_svc && !ev->has[NS_F_target_service]) {
        rc = ns_event_set_text(ev, NS_F_target_service, spn_svc, spn_svclen);
    }
    if (rc == NS_OK && spn_host && spn_hostlen && !ev->has[NS_F_target_machine]) {
        rc = set_value(ev, NS_F_target_machine, spn_host, spn_hostlen);
    }
    if (rc == NS_OK && ev->has[NS_F_target_machine] && !ev->has[NS_F_target_ip] &&
        is_ip_literal(ev->s[NS_F_target_machine])) {
        rc = ns_event_set_text(ev, NS_F_target_ip, ev->s[NS_F_target_machine],
                               strlen(ev->s[NS_F_target_machine]));
    }
    if (rc == NS_OK && ev->has[NS_F_client_machine] && !ev->has[NS_F_client_ip] &&
        is_ip_literal(ev->s[NS_F_client_machine])) {
        rc = ns_event_set_text(ev, NS_F_client_ip, ev->s[NS_F_client_machine],
                               strlen(ev->s[NS_F_client_machine]));
    }
    if (rc == NS_OK && cat) {
        const char *computer = ev->s[NS_F_computer];
        if (!strcmp(cat->role, "client") && !ev->has[NS_F_client_machine]) {
            rc = ns_event_set_text(ev, NS_F_client_machine, computer, strlen(computer));
        } else if (!strcmp(cat->role, "server") && !ev->has[NS_F_target_machine]) {
            rc = ns_event_set_text(ev, NS_F_target_machine, computer, strlen(computer));
        } else if (!strcmp(cat->role, "dc") && !ev->has[NS_F_target_machine] &&
                   ev->has[NS_F_server_name]) {
            rc = ns_event_set_text(ev, NS_F_target_machine, ev->s[NS_F_server_name],
                                   strlen(ev->s[NS_F_server_name]));
        }
        if (rc == NS_OK && !strcmp(cat->role, "dc") && !ev->has[NS_F_target_domain] &&
            ev->has[NS_F_server_domain]) {
            rc = ns_event_set_text(ev, NS_F_target_domain, ev->s[NS_F_server_domain],
                                   strlen(ev->s[NS_F_server_domain]));
        }
        if (rc == NS_OK && !strcmp(cat->role, "dc") && !ev->has[NS_F_target_ip] &&
            ev->has[NS_F_server_ip]) {
            rc = ns_event_set_text(ev, NS_F_target_ip, ev->s[NS_F_server_ip],
                                   strlen(ev->s[NS_F_server_ip]));
        }
        if (rc == NS_OK && cat->ntlm_version && !ev->has[NS_F_ntlm_version]) {
            rc = ns_event_set_text(ev, NS_F_ntlm_version, cat->ntlm_version,
                                   strlen(cat->ntlm_version));
        }
    }
    if (rc == NS_OK && extra.len) {
        rc = ns_buf_add(&extra, "}", 1);
        if (rc == NS_OK) {
            rc = ns_event_set_text(ev, NS_F_extra, extra.data, extra.len);
        }
    }
    if (rc != NS_OK) {
        snprintf(why, whylen, "event too large (%s)", ns_rc_str(rc));
        goto out;
    }
    verdict = NS_V_STORE;
out:
    ns_buf_free(&extra);
    return verdict;
}
