/*
 * pack.c - the compact raw event (schema 5): repeated strings are stored once in table str
 * and referenced by id, every other field is packed into one blob, and the SQL function
 * ns_field(blob, 'name') reads a field back for the views.
 *
 * Blob format: entries in ascending field order, each one byte (the enum ns_field, or
 * NS_PACK_AGENT) followed by its value: an interned text as the unsigned varint of its
 * str.id; an inline text (activity id, message, extra: rarely repeated) as a varint length
 * and its bytes; INT, BOOL and TIME as a zigzag varint; HEX as the unsigned varint of its
 * 64 bits (the view prints it as "0x..." again, as the canonical text is made). Schema 13:
 * an address field (client, target, server, far-side IP) whose text is an IPv4 or IPv6
 * address exactly as inet_ntop writes it is kept inline, its byte having NS_PACK_ADDR set,
 * as a varint length (4 or 16) and the address's bytes: addresses are many (DHCP, VPN) and
 * rarely repeat within one host, and interning each new one cost two B-tree writes.
 */
#include "ns_sql.h"
#include "store_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* Byte that marks the delivering agent (not a canonical field). */
#define NS_PACK_AGENT NS_F_COUNT
/* Set in a field's byte: an address kept inline (schema 13). */
#define NS_PACK_ADDR 0x80
_Static_assert(NS_PACK_AGENT < NS_PACK_ADDR, "a field's byte must leave NS_PACK_ADDR free");

/* The interning cache forgets everything past this many strings or bytes (then refills). */
#define INTERN_MAX_STRINGS (1u << 16)
#define INTERN_MAX_BYTES ((size_t)4 << 20)

int ns_pack_is_column(int f)
{
    return f == NS_F_time_created || f == NS_F_computer || f == NS_F_channel || f == NS_F_record_id;
}

/* Text kept in the blob itself: values that rarely repeat. */
static int inline_text(int f)
{
    return f == NS_F_activity_id || f == NS_F_message || f == NS_F_extra;
}

int ns_pack_interned(int f)
{
    return f == NS_F_computer || f == NS_F_channel ||
           (ns_fields[f].kind == NS_K_TEXT && !ns_pack_is_column(f) && !inline_text(f));
}

/* Fields whose IP addresses are kept inline. */
static int address_field(int f)
{
    return f == NS_F_client_ip || f == NS_F_target_ip || f == NS_F_server_ip ||
           f == NS_F_farside_ip;
}

/* The bytes of s when it is an IPv4 or IPv6 address written exactly as inet_ntop writes it
 * (so that the text comes back the same): their number (4 or 16), else 0. */
static size_t address_bytes(const char *s, unsigned char *addr)
{
    char back[INET6_ADDRSTRLEN];
    size_t n = strlen(s);
    if (n < 7 || n >= sizeof(back)) {
        return 0;
    }
    if (inet_pton(AF_INET, s, addr) == 1) {
        return inet_ntop(AF_INET, addr, back, sizeof(back)) && !strcmp(back, s) ? 4 : 0;
    }
    if (strchr(s, ':') && inet_pton(AF_INET6, s, addr) == 1) {
        return inet_ntop(AF_INET6, addr, back, sizeof(back)) && !strcmp(back, s) ? 16 : 0;
    }
    return 0;
}

/* ========================================================================================== */
/* Interning                                                                                   */
/* ========================================================================================== */

struct intern_slot {
    uint64_t hash; /* 0 = empty */
    int64_t id;    /* str.id */
    const char *s; /* in the table's arena */
};

/* A folded form: the str.id of texts a (and b) folded, by their own str.id. */
struct fold_slot {
    int64_t a, b; /* a = 0: empty */
    int64_t id;
};

/* The folded forms cache forgets everything past this many (then refills). */
#define FOLD_MAX (1u << 16)

uint64_t ns_intern_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h ? h : 1;
}

void ns_intern_clear(struct ns_intern *t)
{
    if (t->slots) {
        memset(t->slots, 0, t->cap * sizeof(*t->slots));
    }
    t->used = 0;
    ns_arena_reset(&t->text);
    if (t->folds) {
        memset(t->folds, 0, t->fold_cap * sizeof(*t->folds));
    }
    t->fold_used = 0;
}

void ns_intern_free(struct ns_intern *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->used = 0;
    ns_arena_free(&t->text);
    free(t->folds);
    t->folds = NULL;
    t->fold_cap = t->fold_used = 0;
}

static int intern_grow(struct ns_intern *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 4096;
    struct intern_slot *ns = calloc(ncap, sizeof(*ns));
    if (!ns) {
        return NS_ENOMEM;
    }
    for (size_t k = 0; k < t->cap; k++) {
        if (t->slots[k].hash) {
            size_t m = t->slots[k].hash & (ncap - 1);
            while (ns[m].hash) {
                m = (m + 1) & (ncap - 1);
            }
            ns[m] = t->slots[k];
        }
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return NS_OK;
}

/* Looks s up in table str, adding it when new. */
static int intern_db(struct ns_store *st, const char *s, int64_t *id)
{
    sqlite3_stmt *q = st->str_get;
    int step;
    *id = 0;
    if (sqlite3_bind_text(q, 1, s, -1, SQLITE_STATIC) != SQLITE_OK) {
        return ns_store_fail(st, "looking up a string");
    }
    step = sqlite3_step(q);
    if (step == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
    }
    sqlite3_reset(q);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        return ns_store_fail(st, "looking up a string");
    }
    if (*id) {
        return NS_OK;
    }
    q = st->str_add;
    if (sqlite3_bind_text(q, 1, s, -1, SQLITE_STATIC) != SQLITE_OK) {
        return ns_store_fail(st, "adding a string");
    }
    step = sqlite3_step(q);
    sqlite3_reset(q);
    if (step != SQLITE_DONE || (*id = sqlite3_last_insert_rowid(st->db)) <= 0) {
        *id = 0;
        return ns_store_fail(st, "adding a string");
    }
    return NS_OK;
}

int ns_intern(struct ns_store *st, const char *s, int64_t *id)
{
    return ns_intern_hashed(st, s, ns_intern_hash(s), id);
}

int ns_intern_hashed(struct ns_store *st, const char *s, uint64_t h, int64_t *id)
{
    struct ns_intern *t = &st->strs;
    size_t m;
    int rc;
    if (t->cap) {
        for (m = h & (t->cap - 1); t->slots[m].hash; m = (m + 1) & (t->cap - 1)) {
            if (t->slots[m].hash == h && !strcmp(t->slots[m].s, s)) {
                *id = t->slots[m].id;
                return NS_OK;
            }
        }
    }
    if ((rc = intern_db(st, s, id)) != NS_OK) {
        return rc;
    }
    /* remember it; a full cache starts over rather than grow without bound */
    if (t->used >= INTERN_MAX_STRINGS || t->text.used + strlen(s) + 1 > INTERN_MAX_BYTES) {
        ns_intern_clear(t);
    }
    if ((t->used + 1) * 2 > t->cap && intern_grow(t) != NS_OK) {
        return NS_OK; /* not cached: still correct */
    }
    for (m = h & (t->cap - 1); t->slots[m].hash; m = (m + 1) & (t->cap - 1)) {
    }
    if ((t->slots[m].s = ns_arena_strdup(&t->text, s))) {
        t->slots[m].hash = h;
        t->slots[m].id = *id;
        t->used++;
    }
    return NS_OK;
}

static size_t fold_at(size_t cap, int64_t a, int64_t b)
{
    uint64_t h = ((uint64_t)a * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)b * 0xc2b2ae3d27d4eb4full);
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* Writes s folded to lower case (ASCII only, as SQL's lower() and NOCASE) at p. */
static char *fold_copy(char *p, const char *s)
{
    for (; *s; s++) {
        *p++ = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
    }
    return p;
}

/* Remembers that (a, b) folds to id: a full cache starts over rather than grow without
 * bound, and one that cannot grow forgets (still correct). */
static void fold_remember(struct ns_intern *t, int64_t a, int64_t b, int64_t id)
{
    size_t m;
    if (t->fold_used >= FOLD_MAX && t->folds) {
        memset(t->folds, 0, t->fold_cap * sizeof(*t->folds));
        t->fold_used = 0;
    }
    if ((t->fold_used + 1) * 2 > t->fold_cap) {
        size_t ncap = t->fold_cap ? t->fold_cap * 2 : 4096;
        struct fold_slot *ns = calloc(ncap, sizeof(*ns));
        if (!ns) {
            return;
        }
        for (size_t k = 0; k < t->fold_cap; k++) {
            if (t->folds[k].a) {
                for (m = fold_at(ncap, t->folds[k].a, t->folds[k].b); ns[m].a;
                     m = (m + 1) & (ncap - 1)) {
                }
                ns[m] = t->folds[k];
            }
        }
        free(t->folds);
        t->folds = ns;
        t->fold_cap = ncap;
    }
    for (m = fold_at(t->fold_cap, a, b); t->folds[m].a; m = (m + 1) & (t->fold_cap - 1)) {
    }
    t->folds[m].a = a;
    t->folds[m].b = b;
    t->folds[m].id = id;
    t->fold_used++;
}

int ns_intern_folded(struct ns_store *st, const char *a, int64_t a_id, const char *b,
                     int64_t b_id, int64_t *id)
{
    struct ns_intern *t = &st->strs;
    int cached = a_id != 0 && (!b || b_id != 0);
    char small[512], *text = small, *end;
    size_t n;
    int rc;
    *id = 0;
    if (!*a && (!b || !*b)) {
        return NS_OK;
    }
    if (cached && t->fold_cap) {
        for (size_t m = fold_at(t->fold_cap, a_id, b_id); t->folds[m].a;
             m = (m + 1) & (t->fold_cap - 1)) {
            if (t->folds[m].a == a_id && t->folds[m].b == b_id) {
                *id = t->folds[m].id;
                return NS_OK;
            }
        }
    }
    n = strlen(a) + (b ? strlen(b) + 1 : 0) + 1;
    if (n > sizeof(small) && !(text = malloc(n))) {
        snprintf(st->errmsg, sizeof(st->errmsg), "folding a name: out of memory");
        return NS_ENOMEM;
    }
    end = fold_copy(text, a);
    if (b) {
        *end++ = '\x1f';
        end = fold_copy(end, b);
    }
    *end = '\0';
    rc = ns_intern(st, text, id);
    if (text != small) {
        free(text);
    }
    if (rc == NS_OK && cached) {
        fold_remember(t, a_id, b_id, *id);
    }
    return rc;
}

/* ========================================================================================== */
/* Packing                                                                                     */
/* ========================================================================================== */

/* Writes v as a varint at p; returns the bytes written (at most 10). */
static size_t varint_at(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

int ns_put_varint(struct ns_buf *b, uint64_t v)
{
    unsigned char tmp[10];
    return ns_buf_add(b, tmp, varint_at(tmp, v)); /* (NS_ETOOBIG tells a day too large) */
}

uint64_t ns_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

int64_t ns_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* An entry's bytes at the most: its byte and a varint, an address's 16 bytes, or an inline
 * text's. */
#define ENTRY_MAX 18

int ns_pack_event(struct ns_store *st, const struct ns_event *ev, const uint64_t *hash,
                  const char *agent, struct ns_buf *out)
{
    size_t bound = ENTRY_MAX, at = 0; /* (the agent's entry) */
    unsigned char *p;
    int rc = NS_OK;
    ns_buf_reset(out);
    memset(st->pack_ids, 0, sizeof(st->pack_ids));
    /* room for every entry, reserved once and written in place */
    for (int f = 0; f < NS_F_COUNT; f++) {
        if (ev->has[f] && !ns_pack_is_column(f)) {
            bound += ENTRY_MAX +
                     (ns_fields[f].kind == NS_K_TEXT && inline_text(f) ? strlen(ev->s[f]) : 0);
        }
    }
    if (!(p = (unsigned char *)ns_buf_space(out, bound))) {
        snprintf(st->errmsg, sizeof(st->errmsg), "packing an event: out of memory");
        return NS_ENOMEM;
    }
    for (int f = 0; f < NS_F_COUNT && rc == NS_OK; f++) {
        unsigned char tag = (unsigned char)f;
        if (!ev->has[f] || ns_pack_is_column(f)) {
            continue;
        }
        if (address_field(f)) {
            unsigned char addr[16];
            size_t len = address_bytes(ev->s[f], addr);
            if (len) {
                p[at++] = (unsigned char)(tag | NS_PACK_ADDR);
                p[at++] = (unsigned char)len;
                memcpy(p + at, addr, len);
                at += len;
                continue;
            }
        }
        p[at++] = tag;
        switch (ns_fields[f].kind) {
        case NS_K_TEXT:
            if (inline_text(f)) {
                size_t n = strlen(ev->s[f]);
                at += varint_at(p + at, n);
                memcpy(p + at, ev->s[f], n);
                at += n;
            } else {
                int64_t id;
                if ((rc = hash ? ns_intern_hashed(st, ev->s[f], hash[f], &id)
                               : ns_intern(st, ev->s[f], &id)) == NS_OK) {
                    at += varint_at(p + at, (uint64_t)id);
                    st->pack_ids[f] = id;
                }
            }
            break;
        case NS_K_HEX:
            at += varint_at(p + at, (uint64_t)ev->i[f]);
            break;
        default:
            at += varint_at(p + at, ns_zigzag(ev->i[f]));
            break;
        }
    }
    if (rc == NS_OK && agent) {
        int64_t id;
        if ((rc = ns_intern(st, agent, &id)) == NS_OK) {
            p[at++] = NS_PACK_AGENT;
            at += varint_at(p + at, (uint64_t)id);
        }
    }
    if (rc == NS_OK) {
        ns_buf_commit(out, at);
    }
    return rc;
}

int64_t ns_pack_id(const struct ns_store *st, int f)
{
    return f >= 0 && f < NS_F_COUNT ? st->pack_ids[f] : 0;
}

/* ========================================================================================== */
/* Reading back: SQL function ns_field(blob, name)                                             */
/* ========================================================================================== */

/* The field a name designates: a canonical field or "agent"; -1 otherwise. */
static int field_of_name(const char *name)
{
    if (!name) {
        return -1;
    }
    if (!strcmp(name, "agent")) {
        return NS_PACK_AGENT;
    }
    return ns_field_by_name(name);
}

/*
 * ns_field(blob, name): the value of one packed field, NULL when absent. Interned text
 * (and the agent) come back as their str.id, to be joined by the view; inline text and
 * addresses as text; HEX as its canonical "0x..." text; the rest as integers.
 */
static void sql_field(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const unsigned char *p;
    size_t n, pos = 0;
    int *cached = sqlite3_get_auxdata(ctx, 1), want;
    (void)argc;
    if (cached) {
        want = *cached;
    } else {
        int *keep;
        want = field_of_name((const char *)sqlite3_value_text(argv[1]));
        if (want < 0 || ns_pack_is_column(want)) {
            sqlite3_result_error(ctx, "ns_field: no packed field of that name", -1);
            return;
        }
        if ((keep = malloc(sizeof(*keep)))) {
            *keep = want;
            sqlite3_set_auxdata(ctx, 1, keep, free);
        }
    }
    p = sqlite3_value_blob(argv[0]);
    n = (size_t)sqlite3_value_bytes(argv[0]);
    while (p && pos < n) {
        int f = p[pos] & ~NS_PACK_ADDR, addr = p[pos] & NS_PACK_ADDR;
        uint64_t v;
        pos++;
        if (f > NS_PACK_AGENT || ns_get_varint(p, n, &pos, &v) != 0 || f > want) {
            break; /* damaged, or past the field (entries are in field order) */
        }
        if (addr) {
            char text[INET6_ADDRSTRLEN];
            if ((v != 4 && v != 16) || v > n - pos) {
                break;
            }
            if (f == want) {
                if (!inet_ntop(v == 4 ? AF_INET : AF_INET6, p + pos, text, sizeof(text))) {
                    break;
                }
                sqlite3_result_text(ctx, text, -1, SQLITE_TRANSIENT);
                return;
            }
            pos += v;
            continue;
        }
        if (f < NS_F_COUNT && ns_fields[f].kind == NS_K_TEXT && inline_text(f)) {
            if (v > n - pos) {
                break;
            }
            if (f == want) {
                sqlite3_result_text(ctx, (const char *)p + pos, (int)v, SQLITE_TRANSIENT);
                return;
            }
            pos += v;
            continue;
        }
        if (f != want) {
            continue;
        }
        if (f == NS_PACK_AGENT || ns_fields[f].kind == NS_K_TEXT) {
            sqlite3_result_int64(ctx, (sqlite3_int64)v);
        } else if (ns_fields[f].kind == NS_K_HEX) {
            char tmp[24];
            snprintf(tmp, sizeof(tmp), "0x%llx", (unsigned long long)v);
            sqlite3_result_text(ctx, tmp, -1, SQLITE_TRANSIENT);
        } else {
            sqlite3_result_int64(ctx, ns_unzigzag(v));
        }
        return;
    }
    sqlite3_result_null(ctx);
}

int ns_pack_register(sqlite3 *db)
{
    return sqlite3_create_function(db, "ns_field", 2,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   sql_field, NULL, NULL) == SQLITE_OK
               ? NS_OK
               : NS_EDB;
}
