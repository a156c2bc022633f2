/*
 * demo.c - a simulated Windows domain: DCs, servers, clients, users, service accounts and
 * machine accounts using NTLM for every usage reason, some NTLMv1, dependencies that start
 * and retire over the weeks. Written as event XML (the enhanced 4020-4033 audit and the
 * older 8001-8004 / 4001 events) so it goes through the same ingest path as real logs.
 * Deterministic for a given configuration.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Runs the next step of an event only while every step before it succeeded. */
#define ADD(step)                                                                                  \
    do {                                                                                           \
        if (rc == NS_OK) {                                                                         \
            rc = (step);                                                                           \
        }                                                                                          \
    } while (0)

/* ========================================================================================== */
/* Deterministic randomness                                                                    */
/* ========================================================================================== */

struct rng {
    uint64_t s; /* splitmix64 state */
};

static uint64_t rnd(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform integer in [0, n). */
static int rnd_below(struct rng *r, int n)
{
    return n <= 1 ? 0 : (int)(rnd(r) % (uint64_t)n);
}

/* ========================================================================================== */
/* The domain                                                                                  */
/* ========================================================================================== */

#define DOMAIN "CORP"
#define DNS_SUFFIX ".corp.example.com"
#define MAX_FLOWS 4096

/* Servers that receive NTLM; index order is fixed. */
static const struct {
    const char *name; /* NetBIOS name */
    const char *ip;   /* address */
    int windows;      /* logs 4022/4023 itself */
} servers[] = {
    {"FS01", "10.20.0.11", 1},    {"FS02", "10.20.0.12", 1},       {"SQL01", "10.20.0.21", 1},
    {"WEB01", "10.20.0.31", 1},   {"APP01", "10.20.0.41", 1},      {"PRINT01", "10.20.0.51", 1},
    {"EXCH01", "10.20.0.61", 1},  {"LEGACY-ERP", "10.20.0.71", 1}, {"NAS01", "10.20.0.81", 0},
    {"SCAN-GW", "10.20.0.91", 1},
};
#define NSERVERS (int)(sizeof(servers) / sizeof(servers[0]))
enum { FS01, FS02, SQL01, WEB01, APP01, PRINT01, EXCH01, ERP, NAS01, SCANGW };

static const char *const dcs[] = {"DC01", "DC02"};

static const char *const users[] = {
    "adams", "baker",  "clark", "davis",  "evans",  "fisher", "garcia",  "harris",
    "irwin", "jones",  "king",  "lopez",  "martin", "nguyen", "owens",   "patel",
    "quinn", "reyes",  "smith", "taylor", "usher",  "vega",   "walker",  "young",
    "zhang", "moreau", "novak", "sato",   "okafor", "larsen", "ivanova", "müller",
};
#define NUSERS (int)(sizeof(users) / sizeof(users[0]))

/* What a dependency looks like: one row per kind of NTLM use. */
struct flow_kind {
    const char *process; /* client process */
    int target;          /* servers[] index, -1: the client itself (loopback) */
    const char *service; /* SPN service class, NULL for none */
    int by_ip;           /* the target name is an IP address */
    int reason;          /* NtlmUsageId */
    int v1;              /* NTLMv1 */
    int per_day;         /* mean events per working day */
    const char *account; /* fixed account, NULL: the client's user */
    int legacy_audit;    /* also logged by the 8001/8002/8004 audit */
};

/* Kinds a workstation uses (its user account). */
static const struct flow_kind ws_kinds[] = {
    {"C:\\Windows\\explorer.exe", FS01, "cifs", 0, 6, 0, 6, NULL, 1},
    {"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", EXCH01, "HTTP", 0, 1, 0, 8,
     NULL, 0},
    {"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", WEB01, "HTTP", 0, 1, 0, 4, NULL,
     0},
    {"C:\\Windows\\System32\\svchost.exe", PRINT01, "cifs", 1, 7, 0, 3, NULL, 1},
    {"C:\\ERP\\client\\erp32.exe", ERP, "host", 0, 1, 1, 5, NULL, 1},
    {"C:\\Windows\\System32\\mstsc.exe", APP01, "TERMSRV", 1, 7, 0, 1, NULL, 0},
    {"C:\\Program Files\\Java\\jre8\\bin\\java.exe", WEB01, NULL, 0, 5, 0, 2, NULL, 0},
    {"C:\\Windows\\System32\\svchost.exe", -1, "host", 0, 10, 0, 2, NULL, 0},
    {"C:\\Windows\\explorer.exe", APP01, "cifs", 0, 2, 0, 1, "Administrator", 0},
    {"C:\\Windows\\System32\\lsass.exe", FS02, NULL, 0, 11, 1, 2, "", 0},
    {"C:\\Windows\\explorer.exe", FS01, "cifs", 0, 4, 0, 1, "AzureAD\\cloud.user", 0},
    {"C:\\Windows\\System32\\svchost.exe", FS02, "cifs", 0, 9, 0, 1, NULL, 0},
    {"C:\\Windows\\System32\\svchost.exe", FS01, "cifs", 0, 0, 0, 1, NULL, 0},
};
#define NWS_KINDS (int)(sizeof(ws_kinds) / sizeof(ws_kinds[0]))

/* Server-to-server dependencies of service accounts: client server, kind. */
static const struct {
    int client;            /* servers[] index */
    struct flow_kind kind; /* what it does */
} svc_flows[] = {
    {APP01, {"D:\\Backup\\bin\\backup.exe", FS01, "cifs", 0, 6, 0, 60, "svc_backup", 1}},
    {APP01, {"D:\\Backup\\bin\\backup.exe", FS02, "cifs", 0, 6, 0, 40, "svc_backup", 1}},
    {SQL01,
     {"C:\\Program Files\\Microsoft SQL Server\\sqlservr.exe", FS02, "cifs", 0, 9, 0, 20, "svc_sql",
      0}},
    {SCANGW, {"C:\\ScanSoft\\scan2folder.exe", NAS01, "cifs", 1, 7, 1, 30, "svc_scanner", 1}},
    {WEB01,
     {"C:\\Windows\\System32\\inetsrv\\w3wp.exe", SQL01, "MSSQLSvc", 0, 8, 0, 25, "svc_web", 0}},
    {PRINT01, {"C:\\Windows\\System32\\spoolsv.exe", FS01, "cifs", 0, 1, 0, 10, "svc_print", 0}},
    {ERP, {"C:\\ERP\\server\\erpsrv.exe", SQL01, "MSSQLSvc", 1, 7, 1, 15, "svc_erp", 1}},
};
#define NSVC_FLOWS (int)(sizeof(svc_flows) / sizeof(svc_flows[0]))

/* One dependency of the simulated domain. */
struct flow {
    int client;                   /* host index (0..nclients-1: WS, then servers) */
    const struct flow_kind *kind; /* its shape */
    int user;                     /* users[] index for NULL accounts */
    int first_day;                /* active from this day offset */
    int last_day;                 /* to this one (inclusive) */
};

/* The generator's state. */
struct gen {
    const struct ns_demo_config *cfg;                    /* configuration */
    struct rng r;                                        /* randomness */
    int nclients;                                        /* workstations */
    uint64_t *record_ids;                                /* next record id per computer */
    struct ns_buf xml;                                   /* event being written */
    int (*emit)(void *ctx, const char *xml, size_t len); /* output */
    void *ctx;                                           /* output context */
};

/* Computer index space: [0, nclients) workstations, then servers, then DCs. */
static void host_name(const struct gen *g, int h, char *out, size_t n, int fqdn)
{
    if (h < g->nclients) {
        snprintf(out, n, "WS%04d%s", h + 1, fqdn ? DNS_SUFFIX : "");
    } else if (h < g->nclients + NSERVERS) {
        snprintf(out, n, "%s%s", servers[h - g->nclients].name, fqdn ? DNS_SUFFIX : "");
    } else {
        snprintf(out, n, "%s%s", dcs[h - g->nclients - NSERVERS], fqdn ? DNS_SUFFIX : "");
    }
}

static void host_ip(const struct gen *g, int h, char *out, size_t n)
{
    if (h < g->nclients) {
        snprintf(out, n, "10.30.%d.%d", h / 200, h % 200 + 20);
    } else if (h < g->nclients + NSERVERS) {
        snprintf(out, n, "%s", servers[h - g->nclients].ip);
    } else {
        snprintf(out, n, "10.20.1.%d", h - g->nclients - NSERVERS + 10);
    }
}

/* ========================================================================================== */
/* Event XML                                                                                   */
/* ========================================================================================== */

static int put_escaped(struct ns_buf *b, const char *s)
{
    int rc = NS_OK;
    for (; *s && rc == NS_OK; s++) {
        switch (*s) {
        case '&':
            rc = ns_buf_adds(b, "&amp;");
            break;
        case '<':
            rc = ns_buf_adds(b, "&lt;");
            break;
        case '>':
            rc = ns_buf_adds(b, "&gt;");
            break;
        case '"':
            rc = ns_buf_adds(b, "&quot;");
            break;
        default:
            rc = ns_buf_add(b, s, 1);
        }
    }
    return rc;
}

static int data(struct ns_buf *b, const char *name, const char *value)
{
    int rc = ns_buf_printf(b, "<Data Name=\"%s\">", name);
    if (rc == NS_OK) {
        rc = put_escaped(b, value);
    }
    return rc == NS_OK ? ns_buf_adds(b, "</Data>") : rc;
}

/* Starts an event: <System> for computer h at time t. */
static int begin_event(struct gen *g, int id, int level, int h, int64_t t, int netlogon)
{
    char computer[64], when[32];
    host_name(g, h, computer, sizeof(computer), 1);
    ns_format_time(t, when);
    when[26] = '\0'; /* seven fractional digits, as Windows writes them */
    ns_buf_reset(&g->xml);
    return ns_buf_printf(
        &g->xml,
        "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>"
        "<Provider Name=\"%s\" Guid=\"%s\"/><EventID>%d</EventID><Version>0</Version>"
        "<Level>%d</Level><Task>%d</Task><Opcode>0</Opcode>"
        "<Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime=\"%s0Z\"/>"
        "<EventRecordID>%llu</EventRecordID><Correlation/>"
        "<Execution ProcessID=\"%d\" ThreadID=\"%d\"/>"
        "<Channel>Microsoft-Windows-NTLM/Operational</Channel><Computer>%s</Computer>"
        "<Security UserID=\"S-1-5-18\"/></System><EventData>",
        netlogon ? "Microsoft-Windows-Security-Netlogon" : "Microsoft-Windows-NTLM",
        netlogon ? "{E5BA83F6-07D0-46B1-8BC7-7E669A1D31DC}"
                 : "{AC43300D-5FCC-4800-8E99-1BD3F85F0320}",
        id, level, id >= 8000 ? 2 : 1, when, (unsigned long long)++g->record_ids[h],
        600 + rnd_below(&g->r, 400), 1000 + rnd_below(&g->r, 9000), computer);
}

static int end_event(struct gen *g)
{
    int rc = ns_buf_adds(&g->xml, "</EventData></Event>\n");
    return rc == NS_OK ? g->emit(g->ctx, g->xml.data, g->xml.len) : rc;
}

static const char *reason_text(int id)
{
    const struct ns_reason *r = ns_reason_find(id);
    return r ? r->text : "Unknown reason";
}

/* Writes the NTLM security block shared by 4020-4033. */
static int security_block(struct gen *g, const struct flow_kind *k, const char *spn)
{
    struct ns_buf *b = &g->xml;
    int rc = NS_OK;
    ADD(data(b, "NegotiatedFlags", k->v1 ? "0xE2088215" : "0xE2888215"));
    ADD(data(b, "NtlmVersion", k->v1 ? "NTLMv1" : "NTLMv2"));
    ADD(data(b, "SessionKeyStatus", k->account && !*k->account ? "Missing" : "Present"));
    ADD(data(b, "ChannelBindingStatus", k->v1 ? "Not Supported" : "Supported"));
    ADD(data(b, "ServiceBinding", spn));
    ADD(data(b, "MicStatus", k->v1 ? "Unprotected" : "Protected"));
    return rc;
}

/* Emits the events one NTLM authentication of flow f at time t leaves behind. */
static int authenticate(struct gen *g, const struct flow *f, int64_t t)
{
    const struct flow_kind *k = f->kind;
    int client = f->client;
    int target = k->target < 0 ? client : g->nclients + k->target;
    int dc = g->nclients + NSERVERS + rnd_below(&g->r, 2);
    char cname[64], tname[64], tfqdn[64], tip[32], cip[32], spn[160], account[96], reason[8];
    const char *acct_domain = DOMAIN;
    int warn = k->v1 || (k->account && !*k->account);
    int rc = NS_OK;
    struct ns_buf *b = &g->xml;

    host_name(g, client, cname, sizeof(cname), 0);
    host_name(g, target, tname, sizeof(tname), 0);
    host_name(g, target, tfqdn, sizeof(tfqdn), 1);
    host_ip(g, target, tip, sizeof(tip));
    host_ip(g, client, cip, sizeof(cip));
    if (k->account) {
        snprintf(account, sizeof(account), "%s", k->account);
        if (!strcmp(k->account, "Administrator")) {
            acct_domain = cname;
        } else if (!strncmp(k->account, "AzureAD\\", 8)) {
            snprintf(account, sizeof(account), "%s", k->account + 8);
            acct_domain = "AzureAD";
        }
    } else {
        snprintf(account, sizeof(account), "%s", users[f->user]);
    }
    if (k->reason == 5) {
        spn[0] = '\0';
    } else {
        snprintf(spn, sizeof(spn), "%s/%s", k->service ? k->service : "host",
                 k->by_ip ? tip : (k->reason == 6 ? tname : tfqdn));
    }
    snprintf(reason, sizeof(reason), "%d", k->reason);

    /* the client's enhanced audit: 4020, or 4021 for a downgrade */
    rc = begin_event(g, warn ? 4021 : 4020, warn ? 3 : 4, client, t, 0);
    ADD(data(b, "ProcessName", k->process));
    ADD(ns_buf_printf(b, "<Data Name=\"ProcessPID\">0x%x</Data>", 1000 + rnd_below(&g->r, 8000)));
    ADD(data(b, "Username", account));
    ADD(data(b, "DomainName", *account ? acct_domain : ""));
    ADD(data(b, "Hostname", cname));
    ADD(data(b, "SingleSignOn",
             k->account && !strcmp(k->account, "Administrator") ? "Supplied Creds"
                                                                : "Single Sign-On"));
    ADD(data(b, "TargetMachine", k->by_ip ? "" : tname));
    ADD(data(b, "TargetDomain", k->by_ip ? "" : DOMAIN));
    ADD(data(b, "TargetService", spn));
    ADD(data(b, "TargetIP", tip));
    ADD(data(b, "TargetNetworkName", k->by_ip ? tip : tfqdn));
    ADD(data(b, "NtlmUsageId", reason));
    ADD(data(b, "NtlmUsageReason", reason_text(k->reason)));
    ADD(security_block(g, k, spn));
    ADD(data(b, "AvlFlags", "0x2"));
    ADD(data(b, "AvlFlagsStr", "MIC present"));
    ADD(end_event(g));

    /* the server's view, when the target is a Windows server */
    if (rc == NS_OK && target >= g->nclients && target < g->nclients + NSERVERS &&
        servers[target - g->nclients].windows && rnd_below(&g->r, 3) == 0) {
        rc = begin_event(g, warn ? 4023 : 4022, warn ? 3 : 4, target, t + 1500, 0);
        ADD(data(b, "ProcessName", "System"));
        ADD(data(b, "ProcessPID", "0x4"));
        ADD(data(b, "Username", account));
        ADD(data(b, "DomainName", *account ? acct_domain : ""));
        ADD(data(b, "RemoteClientMachine", cname));
        ADD(data(b, "ClientIP", cip));
        ADD(data(b, "ClientNetworkName", cname));
        ADD(security_block(g, k, spn));
        ADD(data(b, "TargetMachine", tname));
        ADD(data(b, "TargetDomain", DOMAIN));
        ADD(data(b, "AvFlags", "0x2"));
        ADD(data(b, "AvFlagsStr", "MIC present"));
        ADD(data(b, "Status", "0x0"));
        ADD(data(b, "StatusMsg", "STATUS_SUCCESS"));
        ADD(end_event(g));
    }
    /* the DC's domain-wide view of domain accounts */
    if (rc == NS_OK && !strcmp(acct_domain, DOMAIN) && *account && rnd_below(&g->r, 4) == 0) {
        rc = begin_event(g, warn ? 4033 : 4032, warn ? 3 : 4, dc, t + 3000, 1);
        ADD(data(b, "ClientName", account));
        ADD(data(b, "ClientDomain", DOMAIN));
        ADD(data(b, "ClientMachine", cname));
        ADD(data(b, "ServerName", tname));
        ADD(data(b, "ServerDomain", DOMAIN));
        ADD(data(b, "ServerIP", tip));
        ADD(data(b, "ServerOS", "Windows Server 2025 Datacenter"));
        ADD(security_block(g, k, spn));
        ADD(data(b, "AvFlags", "0x2"));
        ADD(data(b, "AvFlagsStr", "MIC present"));
        ADD(data(b, "Status", "0x0"));
        ADD(data(b, "StatusMsg", "STATUS_SUCCESS"));
        ADD(end_event(g));
    }
    /* the older audit events where "Restrict NTLM: Audit" is on */
    if (rc == NS_OK && k->legacy_audit && rnd_below(&g->r, 2) == 0) {
        rc = begin_event(g, 8001, 4, client, t + 10, 0);
        ADD(data(b, "TargetName", spn[0] ? spn : tname));
        ADD(data(b, "UserName", account));
        ADD(data(b, "DomainName", acct_domain));
        ADD(ns_buf_printf(b, "<Data Name=\"CallerPID\">%d</Data>", 1000 + rnd_below(&g->r, 8000)));
        ADD(data(b, "ProcessName", k->process));
        ADD(data(b, "ClientLUID", "0x3e7"));
        ADD(data(b, "ClientUserName", account));
        ADD(data(b, "ClientDomainName", acct_domain));
        ADD(data(b, "MechanismOID", "1.3.6.1.4.1.311.2.2.10"));
        ADD(end_event(g));
        if (rc == NS_OK && *account && !strcmp(acct_domain, DOMAIN)) {
            char wks[72];
            snprintf(wks, sizeof(wks), "\\\\%s", cname);
            rc = begin_event(g, 8004, 4, dc, t + 3100, 1);
            ADD(data(b, "SChannelName", tname));
            ADD(data(b, "UserName", account));
            ADD(data(b, "DomainName", DOMAIN));
            ADD(data(b, "WorkstationName", wks));
            ADD(data(b, "SChannelType", "2"));
            ADD(end_event(g));
        }
    }
    return rc;
}

/* ========================================================================================== */
/* Driver                                                                                      */
/* ========================================================================================== */

int ns_demo_generate(const struct ns_demo_config *cfg,
                     int (*emit)(void *ctx, const char *xml, size_t len), void *ctx)
{
    struct gen g;
    struct flow *flows;
    int nflows = 0, rc = NS_OK;
    int nhosts;

    memset(&g, 0, sizeof(g));
    g.cfg = cfg;
    /* the seed is hashed: splitmix64 steps by the golden gamma, so seed * gamma would only
     * shift one seed's stream against the next one's */
    g.r.s = cfg->seed ^ 0x5851F42D4C957F2Dull;
    g.r.s = rnd(&g.r) ^ (cfg->seed * 0xD1B54A32D192ED03ull);
    g.nclients = cfg->hosts - NSERVERS - 2;
    if (g.nclients < 1) {
        return NS_EINVAL;
    }
    g.emit = emit;
    g.ctx = ctx;
    nhosts = g.nclients + NSERVERS + 2;
    ns_buf_init(&g.xml, 1u << 16);
    g.record_ids = calloc((size_t)nhosts, sizeof(*g.record_ids));
    flows = calloc(MAX_FLOWS, sizeof(*flows));
    if (!g.record_ids || !flows) {
        rc = NS_ENOMEM;
        goto out;
    }
    for (int h = 0; h < nhosts; h++) {
        g.record_ids[h] = 1000 + (uint64_t)rnd_below(&g.r, 100000);
    }
    /* every workstation: two or three kinds of NTLM use; rarer kinds on fewer machines */
    for (int c = 0; c < g.nclients && nflows < MAX_FLOWS - 3; c++) {
        int n = 2 + rnd_below(&g.r, 2);
        for (int k = 0; k < n; k++) {
            struct flow *f = &flows[nflows++];
            int kind = rnd_below(&g.r, 4) ? rnd_below(&g.r, 5) : rnd_below(&g.r, NWS_KINDS);
            f->client = c;
            f->user = c % NUSERS;
            f->first_day = rnd_below(&g.r, 5) == 0 ? rnd_below(&g.r, cfg->days) : 0;
            f->last_day =
                rnd_below(&g.r, 4) == 0 ? f->first_day + rnd_below(&g.r, cfg->days) : cfg->days - 1;
            if (k == 0 && c < NWS_KINDS) {
                /* the first workstations show every kind of use, all along */
                kind = c;
                f->first_day = 0;
                f->last_day = cfg->days - 1;
            }
            f->kind = &ws_kinds[kind];
        }
    }
    for (int s = 0; s < NSVC_FLOWS && nflows < MAX_FLOWS; s++) {
        struct flow *f = &flows[nflows++];
        f->client = g.nclients + svc_flows[s].client;
        f->kind = &svc_flows[s].kind;
        f->first_day = 0;
        /* the ERP server's NTLMv1 dependency is retired half-way: the burn-down shows it */
        f->last_day = s == NSVC_FLOWS - 1 ? cfg->days / 2 : cfg->days - 1;
    }
    for (int d = 0; d < cfg->days && rc == NS_OK; d++) {
        int64_t day = cfg->end_day - (cfg->days - 1) + d;
        int weekday = (int)((day % 7 + 7 + 3) % 7); /* 0 = Monday */
        for (int k = 0; k < nflows && rc == NS_OK; k++) {
            const struct flow *f = &flows[k];
            int n, mean;
            if (d < f->first_day || d > f->last_day) {
                continue;
            }
            mean = f->kind->per_day;
            if (weekday >= 5) {
                mean = f->client >= g.nclients ? mean : mean / 5;
            }
            n = mean ? rnd_below(&g.r, 2 * mean + 1) : rnd_below(&g.r, 2);
            if (n == 0 && weekday < 5 && f->kind->per_day <= 1) {
                n = 1; /* rare kinds still show up every working day */
            }
            for (int e = 0; e < n && rc == NS_OK; e++) {
                int64_t sec = f->client >= g.nclients ? rnd_below(&g.r, 86400)
                                                      : 7 * 3600 + rnd_below(&g.r, 11 * 3600);
                int64_t t =
                    day * 86400 * (int64_t)1000000 + sec * 1000000 + rnd_below(&g.r, 1000000);
                rc = authenticate(&g, f, t);
            }
        }
        /* a pilot workstation with outgoing NTLM restricted: 4001 blocks */
        if (rc == NS_OK && d >= cfg->days - 7) {
            for (int e = 0; e < 3 && rc == NS_OK; e++) {
                int64_t t = day * 86400 * (int64_t)1000000 + (int64_t)(9 + e) * 3600 * 1000000;
                rc = begin_event(&g, 4001, 3, 0, t, 0);
                ADD(data(&g.xml, "TargetName", "cifs/LEGACY-ERP"));
                ADD(data(&g.xml, "UserName", users[0]));
                ADD(data(&g.xml, "DomainName", DOMAIN));
                ADD(data(&g.xml, "CallerPID", "4"));
                ADD(data(&g.xml, "ProcessName", "C:\\ERP\\client\\erp32.exe"));
                ADD(data(&g.xml, "ClientLUID", "0x4641e93"));
                ADD(data(&g.xml, "ClientUserName", users[0]));
                ADD(data(&g.xml, "ClientDomainName", DOMAIN));
                ADD(data(&g.xml, "MechanismOID", "(NULL)"));
                ADD(end_event(&g));
            }
        }
    }
out:
    free(flows);
    free(g.record_ids);
    ns_buf_free(&g.xml);
    return rc;
}
