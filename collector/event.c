/*
 * event.c - canonical and raw event storage, the event catalogue and the usage reasons.
 */
#include "ns_event.h"

#include <pthread.h>
#include <string.h>

#define NS_X_INFO(name, kind) {#name, kind},
const struct ns_field_info ns_fields[NS_F_COUNT] = {NS_FIELDS(NS_X_INFO)};
#undef NS_X_INFO

/* The fields by name: an open-addressing table filled once (the canonical JSON reader looks
 * up every key of every event; a scan of the names cost about 35 comparisons each). */
#define NAME_SLOTS 256
_Static_assert(NS_F_COUNT * 2 <= NAME_SLOTS, "the name table must stay at most half full");
static signed char name_slot[NAME_SLOTS];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static unsigned name_hash(const char *s)
{
    unsigned h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 16777619u;
    }
    return h;
}

static void build_names(void)
{
    memset(name_slot, -1, sizeof(name_slot));
    for (int f = 0; f < NS_F_COUNT; f++) {
        unsigned m = name_hash(ns_fields[f].name) & (NAME_SLOTS - 1);
        while (name_slot[m] >= 0) {
            m = (m + 1) & (NAME_SLOTS - 1);
        }
        name_slot[m] = (signed char)f;
    }
}

int ns_field_by_name(const char *name)
{
    pthread_once(&names_once, build_names);
    for (unsigned m = name_hash(name) & (NAME_SLOTS - 1); name_slot[m] >= 0;
         m = (m + 1) & (NAME_SLOTS - 1)) {
        if (strcmp(ns_fields[name_slot[m]].name, name) == 0) {
            return name_slot[m];
        }
    }
    return -1;
}

/* ========================================================================================== */
/* Canonical event                                                                             */
/* ========================================================================================== */

void ns_event_init(struct ns_event *ev)
{
    memset(ev->s, 0, sizeof(ev->s));
    memset(ev->i, 0, sizeof(ev->i));
    memset(ev->has, 0, sizeof(ev->has));
    ns_arena_init(&ev->arena, NS_RAW_MAX_BYTES * 2);
}

void ns_event_reset(struct ns_event *ev)
{
    memset(ev->s, 0, sizeof(ev->s));
    memset(ev->i, 0, sizeof(ev->i));
    memset(ev->has, 0, sizeof(ev->has));
    ns_arena_reset(&ev->arena);
}

void ns_event_free(struct ns_event *ev)
{
    if (!ev) {
        return;
    }
    ns_arena_free(&ev->arena);
}

int ns_event_set_text(struct ns_event *ev, enum ns_field f, const char *s, size_t len)
{
    char *copy = ns_arena_strndup(&ev->arena, s, len);
    if (!copy) {
        return NS_ETOOBIG;
    }
    ev->s[f] = copy;
    ev->has[f] = 1;
    return NS_OK;
}

int ns_event_set_int(struct ns_event *ev, enum ns_field f, int64_t v)
{
    ev->i[f] = v;
    ev->has[f] = 1;
    if (ns_fields[f].kind == NS_K_HEX) { /* and its text, "0x" and lower-case digits */
        static const char digit[] = "0123456789abcdef";
        char tmp[24], *p = tmp + sizeof(tmp);
        uint64_t u = (uint64_t)v;
        do {
            *--p = digit[u & 15];
            u >>= 4;
        } while (u);
        *--p = 'x';
        *--p = '0';
        return ns_event_set_text(ev, f, p, (size_t)(tmp + sizeof(tmp) - p));
    }
    return NS_OK;
}

int ns_event_copy(struct ns_event *dst, const struct ns_event *src)
{
    ns_event_reset(dst);
    for (int f = 0; f < NS_F_COUNT; f++) {
        dst->has[f] = src->has[f];
        dst->i[f] = src->i[f];
        if (src->s[f]) {
            if (!(dst->s[f] = ns_arena_strdup(&dst->arena, src->s[f]))) {
                return NS_ENOMEM;
            }
        }
    }
    return NS_OK;
}

/* ========================================================================================== */
/* Raw event                                                                                   */
/* ========================================================================================== */

void ns_raw_init(struct ns_raw *raw)
{
    memset(raw->sys, 0, sizeof(raw->sys));
    raw->ndata = 0;
    raw->too_many = 0;
    ns_arena_init(&raw->arena, NS_RAW_MAX_BYTES);
}

void ns_raw_reset(struct ns_raw *raw)
{
    memset(raw->sys, 0, sizeof(raw->sys));
    raw->ndata = 0;
    raw->too_many = 0;
    ns_arena_reset(&raw->arena);
}

void ns_raw_free(struct ns_raw *raw)
{
    if (!raw) {
        return;
    }
    ns_arena_free(&raw->arena);
}

int ns_raw_set_sys(struct ns_raw *raw, enum ns_sys which, const char *s, size_t len)
{
    char *copy = ns_arena_strndup(&raw->arena, s, len);
    if (!copy) {
        return NS_ETOOBIG;
    }
    raw->sys[which] = copy;
    return NS_OK;
}

int ns_raw_add_data(struct ns_raw *raw, const char *name, size_t nlen, const char *value,
                    size_t vlen)
{
    struct ns_raw_data *d;
    if (raw->ndata >= NS_RAW_MAX_DATA) {
        raw->too_many = 1;
        return NS_OK;
    }
    d = &raw->data[raw->ndata];
    if (!(d->name = ns_arena_strndup(&raw->arena, name, nlen))) {
        return NS_ETOOBIG;
    }
    d->value = NULL;
    if (value && !(d->value = ns_arena_strndup(&raw->arena, value, vlen))) {
        return NS_ETOOBIG;
    }
    raw->ndata++;
    return NS_OK;
}

/* ========================================================================================== */
/* Catalogue (ntlm-events.md)                                                                  */
/* ========================================================================================== */

static const struct ns_catalog_entry catalog[] = {
    {100, 0, 2, "other", "failed", NS_SH_POLICY, NULL,
     "NTLM failed: account is in Protected Users"},
    {101, 0, 2, "other", "failed", NS_SH_POLICY, NULL,
     "NTLM failed: access control restrictions required (authentication policy)"},
    {301, 0, 4, "other", "audit", NS_SH_POLICY, NULL,
     "NTLM succeeded but will fail when the authentication policy is enforced"},
    {4001, 0, 3, "client", "blocked", NS_SH_CLIENT, NULL,
     "Outgoing NTLM to remote servers blocked"},
    {4002, 0, 3, "server", "blocked", NS_SH_SERVER, NULL, "Incoming NTLM blocked"},
    {4003, 0, 3, "dc", "blocked", NS_SH_DOMAIN, NULL, "NTLM in this domain blocked"},
    {4004, 1, 3, "dc", "blocked", NS_SH_NETLOGON, NULL,
     "The DC blocked NTLM passed on to it by a server"},
    {4005, 1, 3, "dc", "blocked", NS_SH_NETLOGON, NULL,
     "The DC blocked NTLM passed on to it by a server"},
    {4006, 1, 3, "dc", "blocked", NS_SH_NETLOGON, NULL,
     "The DC blocked NTLM passed on to it by a server"},
    {4010, 0, 3, "client", "blocked", NS_SH_MINSEC, NULL, "Minimum client security not met"},
    {4011, 0, 3, "server", "blocked", NS_SH_MINSEC, NULL, "Minimum server security not met"},
    {4012, 0, 4, "client", "used", NS_SH_NONE, NULL, "NTLM client used the domain password"},
    {4013, 0, 3, "client", "failed", NS_SH_NONE, "NTLMv1", "Attempt to use NTLMv1 failed"},
    {4014, 0, 2, "other", "blocked", NS_SH_CREDGUARD, NULL,
     "Credential Guard blocked a call package from the credential key"},
    {4015, 0, 3, "client", "blocked", NS_SH_CLIENT, NULL, "Outgoing NTLM blocked"},
    {4020, 0, 4, "client", "used", NS_SH_ENH_CLIENT, NULL,
     "This machine authenticated to a remote resource via NTLM"},
    {4021, 0, 3, "client", "used", NS_SH_ENH_CLIENT, NULL,
     "This machine authenticated to a remote resource via NTLM, with a downgrade"},
    {4022, 0, 4, "server", "used", NS_SH_ENH_SERVER, NULL,
     "A remote client used NTLM to authenticate to this machine"},
    {4023, 0, 3, "server", "used", NS_SH_ENH_SERVER, NULL,
     "A remote client used NTLM to authenticate to this machine, with a downgrade"},
    {4024, 0, 3, "client", "audit", NS_SH_CLIENT, "NTLMv1",
     "NTLMv1-derived credentials used for single sign-on (audit)"},
    {4025, 0, 3, "client", "blocked", NS_SH_CLIENT, "NTLMv1",
     "NTLMv1-derived single sign-on blocked by policy"},
    {4030, 1, 4, "dc", "used", NS_SH_ENH_DC, NULL,
     "DC processed a forwarded NTLM request (client here, server in another domain)"},
    {4031, 1, 3, "dc", "used", NS_SH_ENH_DC, NULL,
     "DC processed a forwarded NTLM request across domains, with a downgrade"},
    {4032, 1, 4, "dc", "used", NS_SH_ENH_DC, NULL,
     "DC processed an NTLM request (client and server in the same domain)"},
    {4033, 1, 3, "dc", "used", NS_SH_ENH_DC, NULL,
     "DC processed an NTLM request in the same domain, with a downgrade"},
    {8001, 0, 4, "client", "audit", NS_SH_CLIENT, NULL,
     "Outgoing NTLM that would be blocked (audit)"},
    {8002, 0, 4, "server", "audit", NS_SH_SERVER, NULL,
     "Incoming NTLM that would be blocked (audit)"},
    {8003, 0, 4, "dc", "audit", NS_SH_DOMAIN, NULL,
     "NTLM in this domain that would be blocked (audit)"},
    {8004, 1, 4, "dc", "audit", NS_SH_NETLOGON, NULL,
     "The DC saw NTLM passed on to it by a server; would be blocked (audit)"},
    {8005, 1, 4, "dc", "audit", NS_SH_NETLOGON, NULL,
     "The DC saw NTLM passed on to it by a server; would be blocked (audit)"},
    {8006, 1, 4, "dc", "audit", NS_SH_NETLOGON, NULL,
     "The DC saw NTLM passed on to it by a server; would be blocked (audit)"},
};

const struct ns_catalog_entry *ns_catalog_find(int id)
{
    for (size_t k = 0; k < sizeof(catalog) / sizeof(catalog[0]); k++) {
        if (catalog[k].id == id) {
            return &catalog[k];
        }
    }
    return NULL;
}

const struct ns_catalog_entry *ns_catalog_all(size_t *n)
{
    *n = sizeof(catalog) / sizeof(catalog[0]);
    return catalog;
}

static const struct ns_reason reasons[] = {
    {0, "Unknown reason",
     "Inspect the process and target; turn on Kerberos event logging on the client"},
    {1, "NTLM was called directly by the calling application",
     "The application asks for NTLM explicitly: configure or change it to use Negotiate"},
    {2, "Authenticating a local account",
     "Local accounts cannot use Kerberos: use a domain account, or retire the local-account "
     "access"},
    {3, "Reserved", "-"},
    {4, "Authenticating a cloud account",
     "Check the cloud (Entra) Kerberos configuration for the account"},
    {5, "The target name was missing or empty",
     "The application supplies no target name: configure an SPN-based target"},
    {6, "The target name could not be resolved by Kerberos or other protocols",
     "Register the missing SPN (setspn -S) and check DNS for the target"},
    {7, "The target name contains an IP address",
     "Connect by DNS name, or register an IP-address SPN where supported"},
    {8, "The target name was duplicated in Active Directory",
     "Remove the duplicate SPN (setspn -X to find it)"},
    {9, "No line of sight to a domain controller",
     "Restore DC reachability (network, firewall, VPN) for the client"},
    {10, "NTLM was called via a loopback interface",
     "Local loopback authentication: usually benign, review the process"},
    {11, "NTLM was called with a null session",
     "Anonymous access: disable null sessions where not required"},
};

const struct ns_reason *ns_reason_find(int64_t id)
{
    if (id < 0 || id >= (int64_t)(sizeof(reasons) / sizeof(reasons[0]))) {
        return NULL;
    }
    return &reasons[id];
}

const struct ns_reason *ns_reason_all(size_t *n)
{
    *n = sizeof(reasons) / sizeof(reasons[0]);
    return reasons;
}
