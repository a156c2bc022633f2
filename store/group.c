/*
 * group.c - the table-valued function ns_dep_group(by, since, until, whole, ref, client,
 * account, domain, process, target, service, reason_id, version): the dependencies of a
 * range grouped the way the views accounts, processes, targets, clients, readiness, reasons
 * and totals show them, one row per group.
 *
 * SQLite groups with a sorter, counts each distinct value with a temporary index per group
 * and finds a group's name by comparing texts without case: at 10 M events (50 k
 * dependencies) 60-120 ms a view. This keeps, per connection, a copy of what grouping reads
 * of each dependency (its integer keys, reason, folded service, running totals and
 * addresses), brought up to date when the database changed, and groups in hash tables.
 *
 * by: 'account' (akey: account and domain folded), 'process' (pkey), 'client' (ckey),
 * 'target' (tkey), 'target_service' (tkey and the service folded), 'reason' (reason_id) or
 * 'all' (one group). A key that is NULL (an absent name) is a group of its own, as in SQL's
 * GROUP BY. whole = 1 reads the dependencies' running totals (the range holds every stored
 * day: sql/range_whole.sql), else their days since .. until are summed (ns_range_cached,
 * whose sums ns_dep_range reads too).
 * ref (a day, or NULL) counts the dependencies active in the 7 days up to it. The filters
 * (NULL: none) are SQL's, sql/dep_group_filter.sql, as sql/dep_range_x.sql has them.
 *
 * A group's dep is its dependency with the lowest id (the views read its names: those a
 * group is keyed by differ in case at most); its addresses are the largest of its
 * dependencies' (SQL's MAX).
 */
#include "store_int.h"

#include "ns_sql.h"

#include <stdlib.h>
#include <string.h>

/* ========================================================================================== */
/* A string pool                                                                               */
/* ========================================================================================== */

#define NO_STR UINT32_MAX

/* Texts stored once, by id (0 ..), with a hash table to find them. */
struct pool {
    char *buf;        /* the texts, each ended by NUL */
    size_t len, cap;  /* bytes used and allocated */
    uint32_t *off;    /* offset of each text in buf */
    uint32_t n, ncap; /* texts, and room in off */
    uint32_t *tab;    /* hash table of id + 1 (0: empty) */
    size_t tcap;      /* its slots (a power of two) */
};

static uint64_t hash_text(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t k = 0; k < n; k++) {
        h = (h ^ (unsigned char)s[k]) * 1099511628211ull;
    }
    return h;
}

static void pool_free(struct pool *p)
{
    free(p->buf);
    free(p->off);
    free(p->tab);
    memset(p, 0, sizeof(*p));
}

static const char *pool_str(const struct pool *p, uint32_t id)
{
    return p->buf + p->off[id];
}

/* The slot of s (n bytes) in p's table: its id + 1, or 0 where it would go. */
static uint32_t *pool_slot(const struct pool *p, const char *s, size_t n)
{
    size_t m = (size_t)hash_text(s, n) & (p->tcap - 1);
    while (p->tab[m]) {
        const char *t = pool_str(p, p->tab[m] - 1);
        if (!memcmp(t, s, n) && t[n] == '\0') {
            break;
        }
        m = (m + 1) & (p->tcap - 1);
    }
    return &p->tab[m];
}

/* Doubles p's table (or makes its first). */
static int pool_rehash(struct pool *p)
{
    size_t ncap = p->tcap ? p->tcap * 2 : 1024;
    uint32_t *old = p->tab;
    size_t ocap = p->tcap;
    if (!(p->tab = calloc(ncap, sizeof(*p->tab)))) {
        p->tab = old;
        return SQLITE_NOMEM;
    }
    p->tcap = ncap;
    for (size_t k = 0; k < ocap; k++) {
        if (old[k]) {
            const char *t = pool_str(p, old[k] - 1);
            *pool_slot(p, t, strlen(t)) = old[k];
        }
    }
    free(old);
    return SQLITE_OK;
}

/* Sets *id to the id of s (n bytes, no NUL inside), adding it when missing. */
static int pool_add(struct pool *p, const char *s, size_t n, uint32_t *id)
{
    uint32_t *slot;
    if (((size_t)p->n + 1) * 2 > p->tcap && pool_rehash(p) != SQLITE_OK) {
        return SQLITE_NOMEM;
    }
    slot = pool_slot(p, s, n);
    if (*slot) {
        *id = *slot - 1;
        return SQLITE_OK;
    }
    if (p->n >= NO_STR - 1 || p->len + n + 1 > UINT32_MAX) {
        return SQLITE_TOOBIG;
    }
    if (p->len + n + 1 > p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 65536;
        char *nb;
        while (ncap < p->len + n + 1) {
            ncap *= 2;
        }
        if (!(nb = realloc(p->buf, ncap))) {
            return SQLITE_NOMEM;
        }
        p->buf = nb;
        p->cap = ncap;
    }
    if (p->n == p->ncap) {
        uint32_t ncap = p->ncap ? p->ncap * 2 : 1024, *no;
        if (!(no = realloc(p->off, (size_t)ncap * sizeof(*no)))) {
            return SQLITE_NOMEM;
        }
        p->off = no;
        p->ncap = ncap;
    }
    memcpy(p->buf + p->len, s, n);
    p->buf[p->len + n] = '\0';
    p->off[p->n] = (uint32_t)p->len;
    p->len += n + 1;
    *slot = ++p->n;
    *id = p->n - 1;
    return SQLITE_OK;
}

/* s (n bytes) folded to lower case as NOCASE compares (ASCII) into out (n + 1 bytes). */
static void fold(const char *s, size_t n, char *out)
{
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        out[k] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    out[n] = '\0';
}

/* ========================================================================================== */
/* The dependencies, as grouping reads them                                                    */
/* ========================================================================================== */

/* One dependency. */
struct dim {
    int64_t id;                              /* dep.id */
    int64_t akey, ckey, tkey, pkey;          /* its grouping keys, 0 when NULL */
    int64_t reason_id;                       /* its reason (-1: none) */
    int64_t events, ntlmv1;                  /* its running totals */
    int64_t first_seen, last_seen, last_day; /* .. of every stored day */
    uint32_t service;                        /* its service folded (an id in texts) */
    uint32_t client_ip, target_ip;           /* its last addresses (ids in texts) */
};

/* A connection's copy of table dep, shared by the cursors reading it. */
struct dims {
    int refs;                   /* the vtab's and each cursor's */
    int64_t version, changes;   /* data_version and the connection's changes when read */
    struct dim *d;              /* the dependencies, in ascending id */
    size_t n, cap;              /* how many, and room for */
    struct pool texts;          /* the services and addresses */
};

static void dims_unref(struct dims *c)
{
    if (c && --c->refs == 0) {
        free(c->d);
        pool_free(&c->texts);
        free(c);
    }
}

/* Interns text column col of q (NULL as ''; a text with a NUL inside up to it) into p,
 * folded to lower case first when folded is set. */
static int add_column(struct pool *p, sqlite3_stmt *q, int col, int folded, uint32_t *id)
{
    const char *s = (const char *)sqlite3_column_text(q, col);
    size_t len = (size_t)sqlite3_column_bytes(q, col);
    char small[256], *f;
    int rc;
    if (!s && sqlite3_column_type(q, col) != SQLITE_NULL) {
        return SQLITE_NOMEM; /* the text could not be made */
    }
    if (!s) {
        s = "";
        len = 0;
    } else if (memchr(s, '\0', len)) {
        len = strlen(s);
    }
    if (!folded) {
        return pool_add(p, s, len, id);
    }
    if (!(f = len < sizeof(small) ? small : malloc(len + 1))) {
        return SQLITE_NOMEM;
    }
    fold(s, len, f);
    rc = pool_add(p, f, len, id);
    if (f != small) {
        free(f);
    }
    return rc;
}

/* Appends the dependencies created since c was read (ids above its last) with what never
 * changes of them: keys, reason, service (sql/dep_group_keys.sql). */
static int dims_add_new(struct dims *c, sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    int rc, step = SQLITE_DONE;
    rc = sqlite3_prepare_v2(db, ns_sql_text("dep_group_keys.sql"), -1, &q, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, c->n ? c->d[c->n - 1].id : INT64_MIN);
    }
    while (rc == SQLITE_OK && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct dim *m;
        if (c->n == c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 4096;
            struct dim *nd = realloc(c->d, ncap * sizeof(*nd));
            if (!nd) {
                rc = SQLITE_NOMEM;
                break;
            }
            c->d = nd;
            c->cap = ncap;
        }
        m = &c->d[c->n];
        memset(m, 0, sizeof(*m));
        m->id = sqlite3_column_int64(q, 0);
        m->akey = sqlite3_column_int64(q, 1); /* NULL reads as 0, as the views take it */
        m->ckey = sqlite3_column_int64(q, 2);
        m->tkey = sqlite3_column_int64(q, 3);
        m->pkey = sqlite3_column_int64(q, 4);
        m->reason_id = sqlite3_column_int64(q, 5);
        if ((rc = add_column(&c->texts, q, 6, 1, &m->service)) == SQLITE_OK) {
            m->client_ip = m->target_ip = m->service; /* read with the totals */
            c->n++;
        }
    }
    if (rc == SQLITE_OK && step != SQLITE_DONE) {
        rc = sqlite3_errcode(db);
    }
    sqlite3_finalize(q);
    return rc;
}

/* Reads again what changes of every dependency: its running totals and last addresses
 * (sql/dep_group_totals.sql). */
static int dims_read_totals(struct dims *c, sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    size_t j = 0;
    int rc, step = SQLITE_DONE;
    rc = sqlite3_prepare_v2(db, ns_sql_text("dep_group_totals.sql"), -1, &q, NULL);
    while (rc == SQLITE_OK && (step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        struct dim *m;
        while (j < c->n && c->d[j].id < id) {
            j++;
        }
        if (j == c->n || c->d[j].id != id) {
            continue; /* not among the keys read (none is: one transaction reads both) */
        }
        m = &c->d[j];
        m->events = sqlite3_column_int64(q, 1);
        m->ntlmv1 = sqlite3_column_int64(q, 2);
        m->first_seen = sqlite3_column_int64(q, 3);
        m->last_seen = sqlite3_column_int64(q, 4);
        m->last_day = sqlite3_column_int64(q, 5);
        if ((rc = add_column(&c->texts, q, 6, 0, &m->client_ip)) == SQLITE_OK) {
            rc = add_column(&c->texts, q, 7, 0, &m->target_ip);
        }
    }
    if (rc == SQLITE_OK && step != SQLITE_DONE) {
        rc = sqlite3_errcode(db);
    }
    sqlite3_finalize(q);
    return rc;
}

/* The ids of the dependencies the filters keep (sql/dep_group_filter.sql, bound to
 * filter[0 .. 7], NULL for none), ascending, in *ids (the caller frees it) and *n. */
static int filtered_ids(sqlite3 *db, sqlite3_value *const filter[8], int64_t **ids, size_t *n)
{
    sqlite3_stmt *q = NULL;
    size_t cap = 0;
    int rc, step = SQLITE_DONE;
    *ids = NULL;
    *n = 0;
    rc = sqlite3_prepare_v2(db, ns_sql_text("dep_group_filter.sql"), -1, &q, NULL);
    for (int f = 0; rc == SQLITE_OK && f < 8; f++) {
        rc = filter[f] ? sqlite3_bind_value(q, f + 1, filter[f]) : sqlite3_bind_null(q, f + 1);
    }
    while (rc == SQLITE_OK && (step = sqlite3_step(q)) == SQLITE_ROW) {
        if (*n == cap) {
            int64_t *ni = realloc(*ids, (cap = cap ? cap * 2 : 1024) * sizeof(*ni));
            if (!ni) {
                rc = SQLITE_NOMEM;
                break;
            }
            *ids = ni;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(q, 0);
    }
    if (rc == SQLITE_OK && step != SQLITE_DONE) {
        rc = sqlite3_errcode(db);
    }
    sqlite3_finalize(q);
    return rc;
}

/* ========================================================================================== */
/* Grouping                                                                                    */
/* ========================================================================================== */

/* What rows are grouped by. */
enum group_by {
    BY_ACCOUNT,
    BY_PROCESS,
    BY_CLIENT,
    BY_TARGET,
    BY_TARGET_SERVICE,
    BY_REASON,
    BY_ALL
};
static const char *const by_names[] = {"account",        "process", "client", "target",
                                       "target_service", "reason",  "all"};

/* One group. */
struct group {
    int64_t key, key2;                  /* its key (0: NULL, but for a reason), the service */
    int64_t dep;                        /* its dependency with the lowest id */
    uint32_t client_ip, target_ip;      /* the largest addresses (ids in texts) */
    int64_t events, ntlmv1, deps;       /* summed, and its dependencies */
    int64_t active;                     /* .. active in the 7 days up to ref */
    int64_t accounts, clients, targets; /* distinct akey, ckey and tkey */
    int64_t first_seen, last_seen, last_day;
};

static uint64_t hash2(int64_t a, int64_t b)
{
    uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15ull;
    h ^= (h >> 29) ^ (uint64_t)b * 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

/* Distinct (group, column, key) triples, counted once each. */
struct seen {
    struct {
        int64_t key; /* the key (never 0 here) */
        uint64_t gc; /* group index * 4 + column + 1; 0: empty */
    } * t;
    size_t cap; /* a power of two, at least twice the triples */
};

/* Whether (gc, key) is new to s; it is then added. */
static int seen_add(struct seen *s, uint64_t gc, int64_t key)
{
    size_t m = (size_t)hash2((int64_t)gc, key) & (s->cap - 1);
    while (s->t[m].gc) {
        if (s->t[m].gc == gc && s->t[m].key == key) {
            return 0;
        }
        m = (m + 1) & (s->cap - 1);
    }
    s->t[m].gc = gc;
    s->t[m].key = key;
    return 1;
}

/* A dependency's key under by. */
static void key_of(const struct dim *d, enum group_by by, int64_t *k, int64_t *k2)
{
    *k2 = 0;
    switch (by) {
    case BY_ACCOUNT:
        *k = d->akey;
        break;
    case BY_PROCESS:
        *k = d->pkey;
        break;
    case BY_CLIENT:
        *k = d->ckey;
        break;
    case BY_TARGET:
        *k = d->tkey;
        break;
    case BY_TARGET_SERVICE:
        *k = d->tkey;
        *k2 = (int64_t)d->service;
        break;
    case BY_REASON:
        *k = d->reason_id;
        break;
    default:
        *k = 0;
        break;
    }
}

/* The groups being built, with a hash table of their index + 1. */
struct grouping {
    struct group *g;
    size_t n, cap;
    uint32_t *tab;
    size_t tcap;
};

/* The group of (k, k2), created from d (its first dependency) when missing, or NULL. */
static struct group *group_of(struct grouping *gr, const struct dim *d, int64_t k, int64_t k2)
{
    size_t m;
    struct group *g;
    if ((gr->n + 1) * 2 > gr->tcap) {
        size_t ncap = gr->tcap ? gr->tcap * 2 : 1024;
        uint32_t *nt = calloc(ncap, sizeof(*nt));
        if (!nt) {
            return NULL;
        }
        for (size_t j = 0; j < gr->n; j++) {
            m = (size_t)hash2(gr->g[j].key, gr->g[j].key2) & (ncap - 1);
            while (nt[m]) {
                m = (m + 1) & (ncap - 1);
            }
            nt[m] = (uint32_t)j + 1;
        }
        free(gr->tab);
        gr->tab = nt;
        gr->tcap = ncap;
    }
    m = (size_t)hash2(k, k2) & (gr->tcap - 1);
    while (gr->tab[m]) {
        g = &gr->g[gr->tab[m] - 1];
        if (g->key == k && g->key2 == k2) {
            return g;
        }
        m = (m + 1) & (gr->tcap - 1);
    }
    if (gr->n == gr->cap) {
        size_t ncap = gr->cap ? gr->cap * 2 : 256;
        struct group *ng = ncap < UINT32_MAX ? realloc(gr->g, ncap * sizeof(*ng)) : NULL;
        if (!ng) {
            return NULL;
        }
        gr->g = ng;
        gr->cap = ncap;
    }
    g = &gr->g[gr->n];
    memset(g, 0, sizeof(*g));
    g->key = k;
    g->key2 = k2;
    g->dep = d->id;
    g->client_ip = d->client_ip;
    g->target_ip = d->target_ip;
    g->first_seen = INT64_MAX;
    g->last_seen = g->last_day = INT64_MIN;
    gr->tab[m] = (uint32_t)++gr->n;
    return g;
}

/* addr (an id in texts) when it is the larger, else max. */
static uint32_t larger(const struct pool *texts, uint32_t max, uint32_t addr)
{
    return addr != max && strcmp(pool_str(texts, addr), pool_str(texts, max)) > 0 ? addr : max;
}

/* Adds dependency d, with these counters over the range, to the grouping (dependencies
 * come in ascending id). */
static int group_add(struct grouping *gr, struct seen *s, const struct dims *c, const struct dim *d,
                     enum group_by by, const struct ns_range_row *r, int ref_on, int64_t ref)
{
    int64_t k, k2;
    struct group *g;
    uint64_t gi;
    key_of(d, by, &k, &k2);
    if (!(g = group_of(gr, d, k, k2))) {
        return SQLITE_NOMEM;
    }
    gi = (uint64_t)(g - gr->g) * 4;
    g->events += r->events;
    g->ntlmv1 += r->ntlmv1;
    g->deps++;
    g->active += ref_on && r->last_day > ref - 7;
    g->first_seen = r->first_seen < g->first_seen ? r->first_seen : g->first_seen;
    g->last_seen = r->last_seen > g->last_seen ? r->last_seen : g->last_seen;
    g->last_day = r->last_day > g->last_day ? r->last_day : g->last_day;
    g->client_ip = larger(&c->texts, g->client_ip, d->client_ip);
    g->target_ip = larger(&c->texts, g->target_ip, d->target_ip);
    g->accounts += d->akey && seen_add(s, gi + 1, d->akey);
    g->clients += d->ckey && seen_add(s, gi + 2, d->ckey);
    g->targets += d->tkey && seen_add(s, gi + 3, d->tkey);
    return SQLITE_OK;
}

/* ========================================================================================== */
/* The table-valued function                                                                   */
/* ========================================================================================== */

/* Columns (sql/dep_group_columns.sql); the arguments follow from COL_BY. */
enum {
    COL_KEY,
    COL_DEP,
    COL_CLIENT_IP,
    COL_TARGET_IP,
    COL_EVENTS,
    COL_NTLMV1,
    COL_DEPS,
    COL_ACTIVE,
    COL_ACCOUNTS,
    COL_CLIENTS,
    COL_TARGETS,
    COL_FIRST,
    COL_LAST,
    COL_LAST_DAY,
    COL_BY, /* arguments: by, since, until, whole, ref, then the filters */
    COL_SINCE,
    COL_UNTIL,
    COL_WHOLE,
    COL_REF,
    COL_FILTER, /* client, account, domain, process, target, service, reason_id, version */
    COL_END = COL_FILTER + 8
};
#define NARGS (COL_END - COL_BY)
_Static_assert(NARGS <= 30, "the arguments given fit in idxNum's bits");

struct group_vtab {
    sqlite3_vtab base;            /* first: SQLite's part */
    sqlite3 *db;                  /* the connection */
    struct dims *dims;            /* its copy of dep, or NULL */
    struct ns_range_cache *range; /* its last range summed (shared with ns_dep_range) */
};

struct group_cursor {
    sqlite3_vtab_cursor base; /* first: SQLite's part */
    struct dims *dims;        /* the copy the groups point into (a reference) */
    struct group *g;          /* the groups */
    size_t n, at;             /* how many, and the current one */
    enum group_by by;         /* what they are grouped by */
};

static int group_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                         sqlite3_vtab **out, char **err)
{
    struct group_vtab *v;
    int rc;
    (void)argc;
    (void)argv;
    (void)err;
    if ((rc = sqlite3_declare_vtab(db, ns_sql_text("dep_group_columns.sql"))) != SQLITE_OK) {
        return rc;
    }
    if (!(v = sqlite3_malloc(sizeof(*v)))) {
        return SQLITE_NOMEM;
    }
    memset(v, 0, sizeof(*v));
    v->db = db;
    v->range = aux;
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = &v->base;
    return SQLITE_OK;
}

static int group_disconnect(sqlite3_vtab *vt)
{
    dims_unref(((struct group_vtab *)vt)->dims);
    sqlite3_free(vt);
    return SQLITE_OK;
}

/* The arguments given are equality constraints on the hidden columns; by is required. Each
 * one given sets its bit in idxNum and is passed in column order. */
static int group_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    int at[NARGS], mask = 0, argv = 0;
    (void)vt;
    for (int k = 0; k < NARGS; k++) {
        at[k] = -1;
    }
    for (int k = 0; k < info->nConstraint; k++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[k];
        if (c->op != SQLITE_INDEX_CONSTRAINT_EQ || c->iColumn < COL_BY) {
            continue;
        }
        if (!c->usable) {
            return SQLITE_CONSTRAINT;
        }
        at[c->iColumn - COL_BY] = k;
    }
    if (at[0] < 0) {
        return SQLITE_CONSTRAINT;
    }
    for (int a = 0; a < NARGS; a++) {
        if (at[a] >= 0) {
            mask |= 1 << a;
            info->aConstraintUsage[at[a]].argvIndex = ++argv;
            info->aConstraintUsage[at[a]].omit = 1;
        }
    }
    info->idxNum = mask;
    info->estimatedCost = 1000;
    info->estimatedRows = 1000;
    return SQLITE_OK;
}

static int group_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    struct group_cursor *c = sqlite3_malloc(sizeof(*c));
    (void)vt;
    if (!c) {
        return SQLITE_NOMEM;
    }
    memset(c, 0, sizeof(*c));
    *out = &c->base;
    return SQLITE_OK;
}

static void cursor_clear(struct group_cursor *c)
{
    free(c->g);
    c->g = NULL;
    c->n = c->at = 0;
    dims_unref(c->dims);
    c->dims = NULL;
}

static int group_close(sqlite3_vtab_cursor *cur)
{
    cursor_clear((struct group_cursor *)cur);
    sqlite3_free(cur);
    return SQLITE_OK;
}

/* Sets *out to a reference (the caller's, dropped with dims_unref) to the connection's copy
 * of dep, brought up to date when the database changed: the dependencies created since are
 * added and every one's totals and addresses read again (keys never change). A cursor's
 * groups hold ids of dependencies and texts, which stay valid. */
static int fresh_dims(struct group_vtab *v, struct dims **out)
{
    int64_t version = ns_data_version(v->db), changes = sqlite3_total_changes64(v->db);
    struct dims *c = v->dims;
    int rc;
    if (c && version >= 0 && c->version == version && c->changes == changes) {
        c->refs++;
        *out = c;
        return SQLITE_OK;
    }
    v->dims = NULL;
    if (!c) {
        if (!(c = calloc(1, sizeof(*c)))) {
            return SQLITE_NOMEM;
        }
        c->refs = 1;
    }
    c->version = version;
    c->changes = changes;
    if ((rc = dims_add_new(c, v->db)) != SQLITE_OK ||
        (rc = dims_read_totals(c, v->db)) != SQLITE_OK) {
        dims_unref(c);
        return rc;
    }
    if (version >= 0) { /* else not known: never kept */
        v->dims = c;
        c->refs++;
    }
    *out = c;
    return SQLITE_OK;
}

/* Groups the dependencies of rows (n, ascending id; or every dependency with events over
 * every day when rows is NULL) that the filters keep (when filtered: ids[0 .. nids),
 * ascending) into the cursor. */
static int group_rows(struct group_cursor *c, const struct ns_range_row *rows, size_t n,
                      int filtered, const int64_t *ids, size_t nids, int ref_on, int64_t ref)
{
    const struct dims *d = c->dims;
    struct grouping gr;
    struct seen s = {0};
    struct ns_range_row whole_row;
    size_t j = 0, f = 0, count = rows ? n : d->n;
    int rc = SQLITE_OK;
    memset(&gr, 0, sizeof(gr));
    s.cap = 1024;
    while (s.cap < count * 6) {
        s.cap *= 2;
    }
    if (!(s.t = calloc(s.cap, sizeof(*s.t)))) {
        return SQLITE_NOMEM;
    }
    /* the range's rows, the dependencies and the filtered ids are all in ascending id */
    for (size_t k = 0; rc == SQLITE_OK && k < count; k++) {
        const struct dim *m;
        const struct ns_range_row *r;
        if (!rows) {
            m = &d->d[k];
            if (m->events <= 0) {
                continue;
            }
            whole_row.dep = m->id;
            whole_row.events = m->events;
            whole_row.ntlmv1 = m->ntlmv1;
            whole_row.first_seen = m->first_seen;
            whole_row.last_seen = m->last_seen;
            whole_row.last_day = m->last_day;
            r = &whole_row;
        } else {
            r = &rows[k];
            while (j < d->n && d->d[j].id < r->dep) {
                j++;
            }
            if (j == d->n || d->d[j].id != r->dep) {
                continue; /* not in dep (as the views' join) */
            }
            m = &d->d[j];
        }
        if (filtered) {
            while (f < nids && ids[f] < m->id) {
                f++;
            }
            if (f == nids || ids[f] != m->id) {
                continue;
            }
        }
        rc = group_add(&gr, &s, d, m, c->by, r, ref_on, ref);
    }
    free(s.t);
    free(gr.tab);
    if (rc != SQLITE_OK) {
        free(gr.g);
        return rc;
    }
    c->g = gr.g;
    c->n = gr.n;
    return SQLITE_OK;
}

/* Whether value v is given and not NULL. */
static int given(sqlite3_value *v)
{
    return v && sqlite3_value_type(v) != SQLITE_NULL;
}

static int group_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc,
                        sqlite3_value **argv)
{
    struct group_cursor *c = (struct group_cursor *)cur;
    struct group_vtab *v = (struct group_vtab *)cur->pVtab;
    sqlite3_value *arg[NARGS] = {0};
    struct dims *d = NULL;
    int64_t *ids = NULL;
    size_t nids = 0;
    int rc = SQLITE_OK, whole, filtered = 0, by = -1;
    const char *bytext;
    (void)idxstr;
    cursor_clear(c);
    for (int a = 0, k = 0; a < NARGS; a++) {
        if (idx & (1 << a)) {
            if (k >= argc) {
                return SQLITE_ERROR;
            }
            arg[a] = argv[k++];
        }
    }
    bytext = arg[0] ? (const char *)sqlite3_value_text(arg[0]) : NULL;
    for (int b = 0; bytext && b <= BY_ALL; b++) {
        if (!strcmp(bytext, by_names[b])) {
            by = b;
        }
    }
    if (by < 0) {
        sqlite3_free(v->base.zErrMsg);
        v->base.zErrMsg =
            sqlite3_mprintf("ns_dep_group: no grouping named \"%s\"", bytext ? bytext : "");
        return SQLITE_ERROR;
    }
    c->by = (enum group_by)by;
    whole = given(arg[COL_WHOLE - COL_BY]) && sqlite3_value_int64(arg[COL_WHOLE - COL_BY]) == 1;
    if (!whole && (!given(arg[COL_SINCE - COL_BY]) || !given(arg[COL_UNTIL - COL_BY]))) {
        return SQLITE_OK; /* no range: no groups */
    }
    for (int f = 0; f < 8; f++) {
        filtered |= given(arg[COL_FILTER - COL_BY + f]);
    }
    if ((rc = fresh_dims(v, &d)) != SQLITE_OK) {
        return rc;
    }
    c->dims = d; /* the cursor's reference */
    if (filtered &&
        (rc = filtered_ids(v->db, &arg[COL_FILTER - COL_BY], &ids, &nids)) != SQLITE_OK) {
        free(ids);
        return rc;
    }
    if (!whole &&
        (rc = ns_range_cached(v->db, v->range, sqlite3_value_int64(arg[COL_SINCE - COL_BY]),
                              sqlite3_value_int64(arg[COL_UNTIL - COL_BY]))) != SQLITE_OK) {
        free(ids);
        return rc;
    }
    rc = group_rows(c, whole ? NULL : v->range->rows, whole ? 0 : v->range->n, filtered, ids, nids,
                    given(arg[COL_REF - COL_BY]),
                    given(arg[COL_REF - COL_BY]) ? sqlite3_value_int64(arg[COL_REF - COL_BY]) : 0);
    free(ids);
    return rc;
}

static int group_next(sqlite3_vtab_cursor *cur)
{
    ((struct group_cursor *)cur)->at++;
    return SQLITE_OK;
}

static int group_eof(sqlite3_vtab_cursor *cur)
{
    const struct group_cursor *c = (const struct group_cursor *)cur;
    return c->at >= c->n;
}

static int group_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const struct group_cursor *c = (const struct group_cursor *)cur;
    const struct group *g = &c->g[c->at];
    const struct pool *texts = &c->dims->texts;
    switch (col) {
    case COL_KEY:
        if (c->by == BY_ALL || (c->by != BY_REASON && g->key == 0)) {
            sqlite3_result_null(ctx);
        } else {
            sqlite3_result_int64(ctx, g->key);
        }
        break;
    case COL_DEP:
        sqlite3_result_int64(ctx, g->dep);
        break;
    case COL_CLIENT_IP:
        sqlite3_result_text(ctx, pool_str(texts, g->client_ip), -1, SQLITE_TRANSIENT);
        break;
    case COL_TARGET_IP:
        sqlite3_result_text(ctx, pool_str(texts, g->target_ip), -1, SQLITE_TRANSIENT);
        break;
    case COL_EVENTS:
        sqlite3_result_int64(ctx, g->events);
        break;
    case COL_NTLMV1:
        sqlite3_result_int64(ctx, g->ntlmv1);
        break;
    case COL_DEPS:
        sqlite3_result_int64(ctx, g->deps);
        break;
    case COL_ACTIVE:
        sqlite3_result_int64(ctx, g->active);
        break;
    case COL_ACCOUNTS:
        sqlite3_result_int64(ctx, g->accounts);
        break;
    case COL_CLIENTS:
        sqlite3_result_int64(ctx, g->clients);
        break;
    case COL_TARGETS:
        sqlite3_result_int64(ctx, g->targets);
        break;
    case COL_FIRST:
        sqlite3_result_int64(ctx, g->first_seen);
        break;
    case COL_LAST:
        sqlite3_result_int64(ctx, g->last_seen);
        break;
    case COL_LAST_DAY:
        sqlite3_result_int64(ctx, g->last_day);
        break;
    default:
        sqlite3_result_null(ctx);
        break; /* the arguments are not read back */
    }
    return SQLITE_OK;
}

static int group_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((const struct group_cursor *)cur)->at;
    return SQLITE_OK;
}

static const sqlite3_module group_module = {
    .iVersion = 0,
    .xConnect = group_connect,
    .xBestIndex = group_best_index,
    .xDisconnect = group_disconnect,
    .xOpen = group_open,
    .xClose = group_close,
    .xFilter = group_filter,
    .xNext = group_next,
    .xEof = group_eof,
    .xColumn = group_column,
    .xRowid = group_rowid,
};

int ns_group_register(sqlite3 *db, struct ns_range_cache *cache)
{
    return sqlite3_create_module(db, "ns_dep_group", &group_module, cache) == SQLITE_OK ? NS_OK
                                                                                        : NS_EDB;
}
