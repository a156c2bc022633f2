/*
 * group.c - the table-valued function ns_dep_group(by, since, until, whole, ref, client,
 * account, domain, process, target, service, reason_id, version): the dependencies of a
 * range grouped the way the views accounts, processes, targets, clients, readiness, reasons
 * and totals show them, one row per group.
 *
 * SQLite groups with a sorter, counts each distinct value with a temporary index per group
 * and finds a group's name by comparing texts without case: at 10 M events (50 k
 * dependencies) 60-120 ms a view. This keeps, per connection, a copy of what grouping reads
 * of each dependency (its integer keys, reason, running totals and the ids of its names in a
 * string pool), reloaded when the database changed, and groups in hash tables.
 *
 * by: 'account' (akey: account and domain folded), 'process' (pkey), 'client' (ckey),
 * 'target' (tkey), 'target_service' (tkey and the service folded), 'reason' (reason_id) or
 * 'all' (one group). A key that is NULL (an absent name) is a group of its own, as in SQL's
 * GROUP BY. whole = 1 reads the dependencies' running totals (the range holds every stored
 * day: sql/range_whole.sql), else their days since .. until are summed (ns_range_sums).
 * ref (a day, or NULL) counts the dependencies active in the 7 days up to it. The filters
 * are those of sql/dep_range_x.sql: NULL is no filter; client, account, domain, process,
 * target and service compare without case (NOCASE: ASCII), version exactly, reason_id as
 * SQL compares a number with a value of no affinity ('' is the absent reason, -1).
 *
 * A group's names (client ... version; those it is grouped by differ in case at most) are
 * each the smallest of its dependencies' spellings and its addresses the largest, comparing
 * bytes (SQL's MIN and MAX of a BINARY text): the same whatever order they were stored in.
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

/* The id of s (n bytes, no NUL inside), or NO_STR when it is not in p. */
static uint32_t pool_find(const struct pool *p, const char *s, size_t n)
{
    uint32_t *slot;
    if (!p->tcap) {
        return NO_STR;
    }
    slot = pool_slot(p, s, n);
    return *slot ? *slot - 1 : NO_STR;
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

/* A dependency's texts, in the order of sql/dep_group_load.sql's columns 10 ..; those before
 * DT_VERSION are filtered without case. */
enum dep_text {
    DT_CLIENT,
    DT_ACCOUNT,
    DT_DOMAIN,
    DT_PROCESS,
    DT_TARGET,
    DT_SERVICE,
    DT_VERSION,
    DT_CLIENT_IP,
    DT_TARGET_IP,
    DT_COUNT
};
#define DT_FOLDED DT_VERSION /* texts before this one are compared without case */

/* One dependency. */
struct dim {
    int64_t id;                              /* dep.id */
    int64_t akey, ckey, tkey, pkey;          /* its grouping keys, 0 when NULL */
    int64_t reason_id;                       /* its reason (-1: none) */
    int64_t events, ntlmv1;                  /* its running totals */
    int64_t first_seen, last_seen, last_day; /* .. of every stored day */
    uint32_t text[DT_COUNT];                 /* its texts: ids in the cache's pool */
};

/* A connection's copy of table dep, shared by the cursors reading it. */
struct dims {
    int refs;                   /* the vtab's and each cursor's */
    int64_t version, changes;   /* data_version and the connection's changes when read */
    struct dim *d;              /* the dependencies, in ascending id */
    size_t n, cap;              /* how many, and room for */
    struct pool names;          /* their texts as spelt */
    struct pool folded;         /* .. folded to lower case */
    uint32_t *fold_of;          /* names id -> folded id */
    uint32_t nfold;             /* room in fold_of */
    struct ns_range_row *range; /* the last range summed (NULL: none) */
    size_t nrange;              /* its rows */
    int64_t since, until;       /* its days */
};

static void dims_unref(struct dims *c)
{
    if (c && --c->refs == 0) {
        free(c->d);
        pool_free(&c->names);
        pool_free(&c->folded);
        free(c->fold_of);
        free(c->range);
        free(c);
    }
}

/* Folds the names from id first on into c->folded (fold_of). */
static int fold_names(struct dims *c, uint32_t first)
{
    if (c->names.n > c->nfold) {
        uint32_t ncap = c->names.ncap, *nf = realloc(c->fold_of, (size_t)ncap * sizeof(*nf));
        if (!nf) {
            return SQLITE_NOMEM;
        }
        c->fold_of = nf;
        c->nfold = ncap;
    }
    for (uint32_t k = first; k < c->names.n; k++) {
        const char *s = pool_str(&c->names, k);
        size_t len = strlen(s);
        char small[256], *f = len < sizeof(small) ? small : malloc(len + 1);
        int rc;
        if (!f) {
            return SQLITE_NOMEM;
        }
        fold(s, len, f);
        rc = pool_add(&c->folded, f, len, &c->fold_of[k]);
        if (f != small) {
            free(f);
        }
        if (rc != SQLITE_OK) {
            return rc;
        }
    }
    return SQLITE_OK;
}

/* Interns text column col of q (NULL as ''; a text with a NUL inside up to it) into p. */
static int add_column(struct pool *p, sqlite3_stmt *q, int col, uint32_t *id)
{
    const char *s = (const char *)sqlite3_column_text(q, col);
    size_t len = (size_t)sqlite3_column_bytes(q, col);
    if (!s) {
        s = "";
        len = 0;
    } else if (memchr(s, '\0', len)) {
        len = strlen(s);
    }
    return pool_add(p, s, len, id);
}

/* Appends the dependencies created since c was read (ids above its last) with what never
 * changes of them: keys, reason and names (sql/dep_group_names.sql), each name folded. */
static int dims_add_new(struct dims *c, sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    uint32_t first = c->names.n;
    int rc, step = SQLITE_DONE;
    rc = sqlite3_prepare_v2(db, ns_sql_text("dep_group_names.sql"), -1, &q, NULL);
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
        for (int t = 0; t < DT_CLIENT_IP && rc == SQLITE_OK; t++) {
            rc = add_column(&c->names, q, 6 + t, &m->text[t]);
        }
        /* the addresses are read with the totals */
        m->text[DT_CLIENT_IP] = m->text[DT_TARGET_IP] = m->text[DT_CLIENT];
        c->n += rc == SQLITE_OK;
    }
    if (rc == SQLITE_OK && step != SQLITE_DONE) {
        rc = sqlite3_errcode(db);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_OK ? fold_names(c, first) : rc;
}

/* Reads again what changes of every dependency: its running totals and last addresses
 * (sql/dep_group_totals.sql). */
static int dims_read_totals(struct dims *c, sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    uint32_t first = c->names.n;
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
            continue; /* not among the names read (none is: one transaction reads both) */
        }
        m = &c->d[j];
        m->events = sqlite3_column_int64(q, 1);
        m->ntlmv1 = sqlite3_column_int64(q, 2);
        m->first_seen = sqlite3_column_int64(q, 3);
        m->last_seen = sqlite3_column_int64(q, 4);
        m->last_day = sqlite3_column_int64(q, 5);
        if ((rc = add_column(&c->names, q, 6, &m->text[DT_CLIENT_IP])) == SQLITE_OK) {
            rc = add_column(&c->names, q, 7, &m->text[DT_TARGET_IP]);
        }
    }
    if (rc == SQLITE_OK && step != SQLITE_DONE) {
        rc = sqlite3_errcode(db);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_OK ? fold_names(c, first) : rc;
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
    int64_t key, key2;                  /* its key (0: NULL, but for a reason), and the service's */
    int64_t reason_id;                  /* its first dependency's reason */
    uint32_t text[DT_COUNT];            /* the smallest names, the largest addresses (ids) */
    int64_t events, ntlmv1, deps;       /* summed, and its dependencies */
    int64_t active;                     /* .. active in the 7 days up to ref */
    int64_t accounts, clients, targets; /* distinct akey, ckey and tkey */
    int64_t first_seen, last_seen, last_day;
};

/* The filters, resolved against the pool: a folded id (or exact, for the version) each, or
 * NO_STR; none = 1 when a filter can match nothing. */
struct filters {
    int on[DT_FOLDED + 1]; /* client .. service, then version: filtered */
    uint32_t id[DT_FOLDED + 1];
    int reason_on; /* reason_id filtered: reason_int, or reason_real */
    int reason_is_real;
    int64_t reason_int;
    double reason_real;
    int none;
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

/* Whether a dependency passes the filters. */
static int passes(const struct dims *c, const struct dim *d, const struct filters *f)
{
    for (int t = 0; t < DT_FOLDED; t++) {
        if (f->on[t] && c->fold_of[d->text[t]] != f->id[t]) {
            return 0;
        }
    }
    if (f->on[DT_FOLDED] && d->text[DT_VERSION] != f->id[DT_FOLDED]) {
        return 0;
    }
    if (f->reason_on) {
        return f->reason_is_real ? (double)d->reason_id == f->reason_real
                                 : d->reason_id == f->reason_int;
    }
    return 1;
}

/* A dependency's key under by. */
static void key_of(const struct dims *c, const struct dim *d, enum group_by by, int64_t *k,
                   int64_t *k2)
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
        *k2 = (int64_t)c->fold_of[d->text[DT_SERVICE]];
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
    g->reason_id = d->reason_id;
    memcpy(g->text, d->text, sizeof(g->text));
    g->first_seen = INT64_MAX;
    g->last_seen = g->last_day = INT64_MIN;
    gr->tab[m] = (uint32_t)++gr->n;
    return g;
}

/* Adds dependency d, with these counters over the range, to the grouping. */
static int group_add(struct grouping *gr, struct seen *s, const struct dims *c, const struct dim *d,
                     enum group_by by, const struct ns_range_row *r, int ref_on, int64_t ref)
{
    int64_t k, k2;
    struct group *g;
    uint64_t gi;
    key_of(c, d, by, &k, &k2);
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
    for (int t = 0; t < DT_COUNT; t++) {
        if (d->text[t] != g->text[t]) {
            int cmp = strcmp(pool_str(&c->names, d->text[t]), pool_str(&c->names, g->text[t]));
            if (t < DT_CLIENT_IP ? cmp < 0 : cmp > 0) {
                g->text[t] = d->text[t];
            }
        }
    }
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
    COL_CLIENT,
    COL_ACCOUNT,
    COL_DOMAIN,
    COL_PROCESS,
    COL_TARGET,
    COL_SERVICE,
    COL_REASON,
    COL_VERSION,
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
    COL_F_CLIENT, /* the filters, in enum dep_text order up to the version */
    COL_F_ACCOUNT,
    COL_F_DOMAIN,
    COL_F_PROCESS,
    COL_F_TARGET,
    COL_F_SERVICE,
    COL_F_REASON,
    COL_F_VERSION,
    COL_END
};
#define NARGS (COL_END - COL_BY)
_Static_assert(NARGS <= 30, "the arguments given fit in idxNum's bits");

struct group_vtab {
    sqlite3_vtab base; /* first: SQLite's part */
    sqlite3 *db;       /* the connection */
    struct dims *dims; /* its copy of dep, or NULL */
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
    (void)aux;
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
 * added and every one's totals and addresses read again (names never change). A copy that a
 * cursor still reads is left to it, and a new one is read whole. */
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
    if (!c || c->refs > 1) {
        dims_unref(c);
        if (!(c = calloc(1, sizeof(*c)))) {
            return SQLITE_NOMEM;
        }
        c->refs = 1;
    }
    c->version = version;
    c->changes = changes;
    free(c->range); /* the sums of the data before */
    c->range = NULL;
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

/* Resolves a text filter against the pool: folded, or exact for the version. */
static void filter_text(const struct dims *c, struct filters *f, int t, sqlite3_value *val)
{
    const char *s = (const char *)sqlite3_value_text(val);
    size_t n = s ? strlen(s) : 0;
    char small[256], *buf;
    f->on[t] = 1;
    if (!s) {
        f->none = 1; /* out of memory reading it: nothing matches rather than everything */
        return;
    }
    if (t == DT_FOLDED) {
        f->id[t] = pool_find(&c->names, s, n);
    } else if ((buf = n < sizeof(small) ? small : malloc(n + 1))) {
        fold(s, n, buf);
        f->id[t] = pool_find(&c->folded, buf, n);
        if (buf != small) {
            free(buf);
        }
    } else {
        f->id[t] = NO_STR;
    }
    f->none |= f->id[t] == NO_STR;
}

/* The reason filter: '' is the absent reason (-1); other values compare as SQL compares an
 * INTEGER column with a value of no affinity (numeric affinity first). */
static void filter_reason(struct filters *f, sqlite3_value *val)
{
    const unsigned char *s = sqlite3_value_text(val);
    f->reason_on = 1;
    if (s && !*s) {
        f->reason_int = -1;
        return;
    }
    switch (sqlite3_value_numeric_type(val)) {
    case SQLITE_INTEGER:
        f->reason_int = sqlite3_value_int64(val);
        break;
    case SQLITE_FLOAT:
        f->reason_is_real = 1;
        f->reason_real = sqlite3_value_double(val);
        break;
    default:
        f->none = 1;
        break; /* a text is never equal to a number */
    }
}

static int group_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc,
                        sqlite3_value **argv)
{
    struct group_cursor *c = (struct group_cursor *)cur;
    struct group_vtab *v = (struct group_vtab *)cur->pVtab;
    sqlite3_value *arg[NARGS] = {0};
    struct filters f;
    struct grouping gr;
    struct seen s = {0};
    const struct ns_range_row *rows = NULL;
    struct ns_range_row whole_row;
    struct dims *d = NULL;
    size_t nrows = 0, j = 0;
    int rc = SQLITE_OK, whole, ref_on, by = -1;
    int64_t since = 0, until = 0, ref = 0;
    const char *bytext;
    (void)idxstr;
    cursor_clear(c);
    memset(&f, 0, sizeof(f));
    memset(&gr, 0, sizeof(gr));
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
    whole = arg[COL_WHOLE - COL_BY] && sqlite3_value_int64(arg[COL_WHOLE - COL_BY]) == 1;
    if (!whole) {
        sqlite3_value *a = arg[COL_SINCE - COL_BY], *b = arg[COL_UNTIL - COL_BY];
        if (!a || !b || sqlite3_value_type(a) == SQLITE_NULL ||
            sqlite3_value_type(b) == SQLITE_NULL) {
            return SQLITE_OK; /* no range: no groups */
        }
        since = sqlite3_value_int64(a);
        until = sqlite3_value_int64(b);
    }
    ref_on = arg[COL_REF - COL_BY] && sqlite3_value_type(arg[COL_REF - COL_BY]) != SQLITE_NULL;
    ref = ref_on ? sqlite3_value_int64(arg[COL_REF - COL_BY]) : 0;
    if ((rc = fresh_dims(v, &d)) != SQLITE_OK) {
        return rc;
    }
    c->dims = d; /* the cursor's reference */
    for (int t = 0; t <= DT_FOLDED; t++) {
        sqlite3_value *val = arg[COL_F_CLIENT - COL_BY + t + (t == DT_FOLDED)];
        if (val && sqlite3_value_type(val) != SQLITE_NULL) {
            filter_text(d, &f, t, val);
        }
    }
    if (arg[COL_F_REASON - COL_BY] &&
        sqlite3_value_type(arg[COL_F_REASON - COL_BY]) != SQLITE_NULL) {
        filter_reason(&f, arg[COL_F_REASON - COL_BY]);
    }
    if (f.none) {
        return SQLITE_OK;
    }
    if (!whole) {
        if (!d->range || d->since != since || d->until != until) {
            free(d->range);
            d->range = NULL;
            if ((rc = ns_range_sums(v->db, since, until, &d->range, &d->nrange)) != SQLITE_OK) {
                return rc;
            }
            d->since = since;
            d->until = until;
        }
        rows = d->range;
        nrows = d->nrange;
    }
    s.cap = 1024;
    while (s.cap < (whole ? d->n : nrows) * 6) {
        s.cap *= 2;
    }
    if (!(s.t = calloc(s.cap, sizeof(*s.t)))) {
        return SQLITE_NOMEM;
    }
    /* the range's rows and the dependencies are both in ascending id: merged */
    for (size_t k = 0; rc == SQLITE_OK && k < (whole ? d->n : nrows); k++) {
        const struct dim *m;
        const struct ns_range_row *r;
        if (whole) {
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
        if (passes(d, m, &f)) {
            rc = group_add(&gr, &s, d, m, c->by, r, ref_on, ref);
        }
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

static void result_text(sqlite3_context *ctx, const struct dims *d, uint32_t id)
{
    sqlite3_result_text(ctx, pool_str(&d->names, id), -1, SQLITE_TRANSIENT);
}

static int group_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const struct group_cursor *c = (const struct group_cursor *)cur;
    const struct group *g = &c->g[c->at];
    const struct dims *d = c->dims;
    static const enum dep_text texts[] = {DT_CLIENT,  DT_ACCOUNT, DT_DOMAIN,
                                          DT_PROCESS, DT_TARGET,  DT_SERVICE};
    switch (col) {
    case COL_KEY:
        if (c->by == BY_ALL || (c->by != BY_REASON && g->key == 0)) {
            sqlite3_result_null(ctx);
        } else {
            sqlite3_result_int64(ctx, g->key);
        }
        break;
    case COL_CLIENT:
    case COL_ACCOUNT:
    case COL_DOMAIN:
    case COL_PROCESS:
    case COL_TARGET:
    case COL_SERVICE:
        result_text(ctx, d, g->text[texts[col - COL_CLIENT]]);
        break;
    case COL_VERSION:
        result_text(ctx, d, g->text[DT_VERSION]);
        break;
    case COL_REASON:
        sqlite3_result_int64(ctx, g->reason_id);
        break;
    case COL_CLIENT_IP:
        result_text(ctx, d, g->text[DT_CLIENT_IP]);
        break;
    case COL_TARGET_IP:
        result_text(ctx, d, g->text[DT_TARGET_IP]);
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

int ns_group_register(sqlite3 *db)
{
    return sqlite3_create_module(db, "ns_dep_group", &group_module, NULL) == SQLITE_OK ? NS_OK
                                                                                       : NS_EDB;
}
