/*
 * gen.c - a fast generator of a simulated domain's NTLM events for the benchmarks: H hosts,
 * accounts and processes with a realistic skew (a few heavy service accounts, a long tail),
 * every event type of the catalogue, as event XML with no root (what wevtutil prints) or as
 * NDJSON in the seeds' shape. Deterministic for a seed.
 *
 * usage: ns-bench-gen EVENTS [HOSTS] [xml|json] [SEED] > file
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 88172645463325252ull;

static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/* Skewed pick in [0, n): squaring a uniform number favours the first ones. */
static unsigned skew(unsigned n)
{
    double u = (double)(next() >> 11) / 9007199254740992.0;
    return (unsigned)(u * u * u * n);
}

static const int ids[] = {4020, 4020, 4020, 4020, 4021, 4022, 4022, 4023, 4032, 4033,
                          8001, 8002, 8003, 8004, 4001, 4002, 4003, 4024, 4013, 4030};
static const char *const procs[] = {
    "C:\\Windows\\explorer.exe", "C:\\Windows\\System32\\svchost.exe",
    "C:\\Windows\\System32\\lsass.exe", "D:\\Backup\\bin\\backup.exe",
    "C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE",
    "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "C:\\ERP\\client\\erp32.exe",
    "C:\\Windows\\System32\\inetsrv\\w3wp.exe", "C:\\ScanSoft\\scan2folder.exe", "System"};

/* One EventData field. */
struct field {
    const char *name;
    const char *value;
};
#define F(n, v) (f[nf].name = (n), f[nf++].value = (v))

/* Small formatted values, each in its own rotating buffer (valid for one event). */
static char *fmtbuf(void)
{
    static char ring[8][48];
    static unsigned at;
    return ring[at++ % 8];
}

static const char *hexpid(unsigned v)
{
    char *b = fmtbuf();
    snprintf(b, 48, "0x%x", v);
    return b;
}

static const char *num(unsigned v)
{
    char *b = fmtbuf();
    snprintf(b, 48, "%u", v);
    return b;
}

static const char *spn(const char *target)
{
    char *b = fmtbuf();
    snprintf(b, 48, "cifs/%s", target);
    return b;
}

/* Information (4) for the audit and enhanced information events, warning (3) otherwise. */
static int level(int id)
{
    return id >= 8000 || id == 4012 || id == 4020 || id == 4022 || id == 4030 || id == 4032 ? 4 : 3;
}

int main(int argc, char **argv)
{
    long long n = argc > 1 ? strtoll(argv[1], NULL, 10) : 1000000;
    unsigned hosts = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 2000;
    int json = argc > 3 && !strcmp(argv[3], "json");
    uint64_t *rec;
    char buf[4096];
    static char out[1 << 20];
    size_t used = 0;
    long long t0 = 1790000000LL * 1000000; /* 2026-09-21 */
    if (argc > 4) {
        state ^= strtoull(argv[4], NULL, 10) * 0x9E3779B97F4A7C15ull;
    }
    if (hosts < 20 || n < 1 || !(rec = calloc(hosts, sizeof(*rec)))) {
        fputs("usage: ns-bench-gen EVENTS [HOSTS>=20] [xml|json] [SEED]\n", stderr);
        return 2;
    }
    /* the flows of the domain: who talks to whom, with what */
    unsigned nflows = hosts * 3;
    struct flow {
        unsigned client, acct, tgt, proc, reason; /* the dependency */
        int v1;                                   /* NTLMv1 */
    } *flows = calloc(nflows, sizeof(*flows));
    if (!flows) {
        return 1;
    }
    for (unsigned f = 0; f < nflows; f++) {
        flows[f].client = (unsigned)(next() % hosts);
        flows[f].acct = f < 40 ? f % 4 : skew(hosts + 200);
        flows[f].tgt = skew(40);
        flows[f].proc = skew(10);
        flows[f].reason = (unsigned)(next() % 12);
        flows[f].v1 = next() % 9 == 0;
    }
    for (long long k = 0; k < n; k++) {
        const struct flow *fl = &flows[skew(nflows)];
        unsigned h = fl->client, acct = fl->acct, tgt = fl->tgt;
        int id = ids[next() % (sizeof(ids) / sizeof(ids[0]))];
        long long t = t0 + k * (2592000000000LL / n) + (long long)(next() % 1000000);
        long long s = t / 1000000, us = t % 1000000;
        char when[64], account[32], target[32], client[32], computer[48];
        int len;
        long long sec = s % 86400, day = s / 86400;
        /* civil date from days (2026-09-21 onwards; days_from_civil inverse, short form) */
        long long z = day + 719468, era = z / 146097, doe = z - era * 146097;
        long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        long long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
        long long m = mp < 10 ? mp + 3 : mp - 9;
        y += m <= 2;
        snprintf(when, sizeof(when), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lld0Z", y, m, d,
                 sec / 3600, sec / 60 % 60, sec % 60, us);
        if (acct < 4) {
            snprintf(account, sizeof(account), "svc_app%u", acct);
        } else if (acct < hosts) {
            snprintf(account, sizeof(account), "user%05u", acct);
        } else {
            snprintf(account, sizeof(account), "WS%05u$", acct - hosts);
        }
        snprintf(target, sizeof(target), "SRV%03u", tgt);
        snprintf(client, sizeof(client), "WS%05u", fl->client);
        snprintf(computer, sizeof(computer), "%s%05u.corp.example.com",
                 id == 4032 || id == 4033 || id == 8003 || id == 8004 || id == 4030 || id == 4003
                     ? "DC"
                     : id == 4022 || id == 4023 || id == 8002 || id == 4002 ? "SRV" : "WS",
                 h);
        rec[h]++;
        {
            /* each role carries the fields its events have (ntlm-events.md) */
            int server = id == 4022 || id == 4023 || id == 8002 || id == 4002;
            int netlogon = id == 8004 || id == 4030 || id == 4032 || id == 4033;
            const char *ver = fl->v1 ? "NTLMv1" : "NTLMv2";
            const char *mic = fl->v1 ? "Unprotected" : "Protected";
            const char *proc = procs[fl->proc];
            unsigned reason = fl->reason, pid = 0x400 + (unsigned)(k % 60000);
            char data[1536], ip[24], cpid[16], luid[24];
            struct field f[16];
            int nf = 0;
            snprintf(ip, sizeof(ip), "10.%u.%u.%u", h % 250, h / 250 % 250, (unsigned)(k % 250));
            snprintf(cpid, sizeof(cpid), "%u", pid);
            snprintf(luid, sizeof(luid), "0x%llx", 0x3e7ULL + (unsigned long long)(k % 5000));
            /* each event ID carries the fields ntlm-events.md gives it */
            if (id == 4013) {
                /* no event data */
            } else if (id == 4020 || id == 4021) {
                F("ProcessName", proc);
                F("ProcessPID", hexpid(pid));
                F("Username", account);
                F("DomainName", "CORP");
                F("Hostname", client);
                F("TargetMachine", target);
                F("TargetService", spn(target));
                F("NtlmUsageId", num(reason));
                F("NtlmVersion", ver);
                F("NegotiatedFlags", fl->v1 ? "0xe2088215" : "0xe2888215");
                F("MicStatus", mic);
            } else if (id == 4022 || id == 4023) {
                F("ProcessName", proc);
                F("ProcessPID", hexpid(pid));
                F("Username", account);
                F("DomainName", "CORP");
                F("RemoteClientMachine", client);
                F("ClientIP", ip);
                F("NtlmVersion", ver);
                F("MicStatus", mic);
            } else if (id == 4030 || id == 4032 || id == 4033) {
                F("ClientName", account);
                F("ClientDomain", "CORP");
                F("ClientMachine", client);
                F("ServerName", target);
                F("ServerDomain", "CORP");
                F("NtlmVersion", ver);
            } else if (id == 8003 || id == 4003) {
                F("UserName", account);
                F("DomainName", "CORP");
                F("Workstation", client);
                F("CallerPID", cpid);
                F("ProcessName", proc);
                F("LogonType", "3");
            } else if (id == 8004) {
                F("SChannelName", target);
                F("UserName", account);
                F("DomainName", "CORP");
                F("WorkstationName", client);
                F("SChannelType", "2");
            } else if (server) { /* 8002, 4002 */
                F("CallerPID", cpid);
                F("ProcessName", proc);
                F("ClientLUID", luid);
                F("ClientUserName", account);
                F("ClientDomainName", "CORP");
                F("MechanismOID", "1.3.6.1.4.1.311.2.2.10");
            } else { /* 8001, 4001, 4024: outgoing */
                F("TargetName", spn(target));
                F("UserName", account);
                F("DomainName", "CORP");
                F("CallerPID", cpid);
                F("ProcessName", proc);
                F("ClientLUID", luid);
                F("MechanismOID", "1.3.6.1.4.1.311.2.2.10");
            }
            {
                size_t o = 0;
                data[0] = '\0';
                for (int q = 0; q < nf && o + 200 < sizeof(data); q++) {
                    int w;
                    if (json) {
                        char esc[512];
                        size_t e = 0;
                        for (const char *c = f[q].value; *c && e + 2 < sizeof(esc); c++) {
                            if (*c == '\\' || *c == '"') {
                                esc[e++] = '\\';
                            }
                            esc[e++] = *c;
                        }
                        esc[e] = '\0';
                        w = snprintf(data + o, sizeof(data) - o, "%s\"%s\":\"%s\"", q ? "," : "",
                                     f[q].name, esc);
                    } else {
                        w = snprintf(data + o, sizeof(data) - o, "<Data Name=\"%s\">%s</Data>",
                                     f[q].name, f[q].value);
                    }
                    o += (size_t)w;
                }
            }
            if (!json) {
                len = snprintf(
                    buf, sizeof(buf),
                    "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\"><System>"
                    "<Provider Name=\"%s\" Guid=\"%s\"/>"
                    "<EventID>%d</EventID><Version>0</Version><Level>%d</Level><Task>1</Task>"
                    "<Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords>"
                    "<TimeCreated SystemTime=\"%s\"/><EventRecordID>%llu</EventRecordID>"
                    "<Correlation/><Execution ProcessID=\"%u\" ThreadID=\"%u\"/>"
                    "<Channel>Microsoft-Windows-NTLM/Operational</Channel><Computer>%s</Computer>"
                    "<Security UserID=\"S-1-5-18\"/></System><EventData>%s</EventData></Event>\n",
                    netlogon ? "Microsoft-Windows-Security-Netlogon" : "Microsoft-Windows-NTLM",
                    netlogon ? "{E5BA83F6-07D0-46B1-8BC7-7E669A1D31DC}"
                             : "{AC43300D-5FCC-4800-8E99-1BD3F85F0320}",
                    id, level(id), when,
                    (unsigned long long)rec[h], 600 + h % 300, 1000 + (unsigned)(k % 9000),
                    computer, data);
            } else {
                len = snprintf(
                    buf, sizeof(buf),
                    "{\"system\":{\"provider\":\"%s\",\"event_id\":%d,\"version\":0,"
                    "\"level\":%d,\"task\":1,\"opcode\":0,\"keywords\":9223372036854775808,"
                    "\"time_created\":\"%s\",\"event_record_id\":%llu,\"execution\":{\"process_id\":%u,"
                    "\"thread_id\":%u},\"channel\":\"Microsoft-Windows-NTLM/Operational\","
                    "\"computer\":\"%s\",\"security\":{\"user_id\":\"S-1-5-18\"}},\"event_data\":{%s}}\n",
                    netlogon ? "Microsoft-Windows-Security-Netlogon" : "Microsoft-Windows-NTLM",
                    id, level(id), when,
                    (unsigned long long)rec[h], 600 + h % 300, 1000 + (unsigned)(k % 9000),
                    computer, data);
            }
        }
        if (used + (size_t)len > sizeof(out)) {
            fwrite(out, 1, used, stdout);
            used = 0;
        }
        memcpy(out + used, buf, (size_t)len);
        used += (size_t)len;
    }
    fwrite(out, 1, used, stdout);
    free(rec);
    free(flows);
    return fflush(stdout) == 0 ? 0 : 1;
}
