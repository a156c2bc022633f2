/*
 * range.c - the table-valued function ns_dep_range(since, until): each dependency's counters
 * summed over the days since .. until of dep_daily, one row per dependency, in dependency
 * order. SQLite's GROUP BY sorts the range's rows first (about 0.6 us a row); this sums them
 * in an array by dependency id (a hash table when ids are sparse), several times faster for
 * the views over a partial range (sql/dep_range_part.sql).
 *
 * Day packs (schema 12): each day's rows of dep_daily are also kept as blobs in table
 * dep_day_pack, decoded here about ten times faster than SQLite steps through the rows. Part 0
 * is the day packed whole; each commit that adds to the day since appends a part with its own
 * additions (events and NTLMv1 events add up, first and last times are a min and a max, so the
 * parts sum to the rows), and a day is packed whole again before its parts outgrow its whole
 * pack or reach PACK_PARTS_MAX: a commit costs its own rows (and, amortized, about as many
 * again), not the day's. A pack holds dependencies in ascending id, each as five
 * varints: the id's distance from the previous entry's id (the first entry: the id), events,
 * NTLMv1 events, first_seen minus the day's start (zigzag) and last_seen minus first_seen
 * (zigzag). A day with rows but no pack (too large to pack) is read from dep_daily
 * (sql/dep_range_scan.sql).
 */
#include "ns_sql.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#define DAY_US 86400000000LL /* microseconds in a day */

/* Columns of the function; the last two are its arguments. */
enum { COL_DEP, COL_EVENTS, COL_NTLMV1, COL_FIRST, COL_LAST, COL_LAST_DAY, COL_SINCE, COL_UNTIL };

struct range_vtab {
    sqlite3_vtab base;            /* first: SQLite's part */
    sqlite3 *db;                  /* the connection, for the scan */
    struct ns_range_cache *cache; /* the connection's last range summed */
};

struct range_cursor {
    sqlite3_vtab_cursor base; /* first: SQLite's part */
    struct ns_range_row *rows; /* the sums, compacted and sorted by dep */
    size_t n;                 /* rows */
    size_t at;                /* current row */
};

static int range_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                         sqlite3_vtab **out, char **err)
{
    struct range_vtab *v;
    int rc;
    (void)argc;
    (void)argv;
    (void)err;
    rc = sqlite3_declare_vtab(db, ns_sql_text("dep_range_columns.sql"));
    if (rc != SQLITE_OK) {
        return rc;
    }
    if (!(v = sqlite3_malloc(sizeof(*v)))) {
        return SQLITE_NOMEM;
    }
    memset(v, 0, sizeof(*v));
    v->db = db;
    v->cache = aux;
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = &v->base;
    return SQLITE_OK;
}

static int range_disconnect(sqlite3_vtab *vt)
{
    sqlite3_free(vt);
    return SQLITE_OK;
}

int64_t ns_data_version(sqlite3 *db)
{
    sqlite3_stmt *q = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, ns_sql_text("data_version.sql"), -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW) {
        v = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    return v;
}

/* Copies n rows into a new cursor array. */
static struct ns_range_row *copy_rows(const struct ns_range_row *rows, size_t n)
{
    struct ns_range_row *c = malloc(n ? n * sizeof(*c) : 1);
    if (c && n) {
        memcpy(c, rows, n * sizeof(*c));
    }
    return c;
}

/* Both arguments are required, as equality constraints on the hidden columns. */
static int range_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    int since = -1, until = -1;
    (void)vt;
    for (int k = 0; k < info->nConstraint; k++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[k];
        if (c->op != SQLITE_INDEX_CONSTRAINT_EQ) {
            continue;
        }
        if (c->iColumn == COL_SINCE) {
            if (!c->usable) {
                return SQLITE_CONSTRAINT;
            }
            since = k;
        } else if (c->iColumn == COL_UNTIL) {
            if (!c->usable) {
                return SQLITE_CONSTRAINT;
            }
            until = k;
        }
    }
    if (since < 0 || until < 0) {
        return SQLITE_CONSTRAINT;
    }
    info->aConstraintUsage[since].argvIndex = 1;
    info->aConstraintUsage[since].omit = 1;
    info->aConstraintUsage[until].argvIndex = 2;
    info->aConstraintUsage[until].omit = 1;
    info->estimatedCost = 1000;
    info->estimatedRows = 1000;
    if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == COL_DEP && !info->aOrderBy[0].desc) {
        info->orderByConsumed = 1; /* rows come in dependency order */
    }
    return SQLITE_OK;
}

static int range_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    struct range_cursor *c = sqlite3_malloc(sizeof(*c));
    (void)vt;
    if (!c) {
        return SQLITE_NOMEM;
    }
    memset(c, 0, sizeof(*c));
    *out = &c->base;
    return SQLITE_OK;
}

static int range_close(sqlite3_vtab_cursor *cur)
{
    struct range_cursor *c = (struct range_cursor *)cur;
    free(c->rows);
    sqlite3_free(c);
    return SQLITE_OK;
}

static int by_dep(const void *a, const void *b)
{
    int64_t x = ((const struct ns_range_row *)a)->dep, y = ((const struct ns_range_row *)b)->dep;
    return (x > y) - (x < y);
}

/* The slot of dep in the table (cap a power of two), inserting it when missing. */
static struct ns_range_row *slot_of(struct ns_range_row *t, size_t cap, int64_t dep, size_t *used)
{
    size_t m = ((uint64_t)dep * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
    while (t[m].dep && t[m].dep != dep) {
        m = (m + 1) & (cap - 1);
    }
    if (!t[m].dep) {
        t[m].dep = dep;
        t[m].first_seen = INT64_MAX;
        t[m].last_seen = t[m].last_day = INT64_MIN;
        (*used)++;
    }
    return &t[m];
}

/* Doubles the table. */
static int grow(struct ns_range_row **t, size_t *cap)
{
    size_t ncap = *cap * 2, used = 0;
    struct ns_range_row *nt = calloc(ncap, sizeof(*nt));
    if (!nt) {
        return SQLITE_NOMEM;
    }
    for (size_t k = 0; k < *cap; k++) {
        if ((*t)[k].dep) {
            *slot_of(nt, ncap, (*t)[k].dep, &used) = (*t)[k];
        }
    }
    free(*t);
    *t = nt;
    *cap = ncap;
    return SQLITE_OK;
}

/* ========================================================================================== */
/* Day packs                                                                                   */
/* ========================================================================================== */

/* A day packed whole again once it has this many parts. */
#define PACK_PARTS_MAX 8

/* Appends one entry to a pack; *prev is the previous entry's dependency (0 at first). */
static int pack_entry(struct ns_buf *b, int64_t day, int64_t *prev, const struct ns_pack_row *r)
{
    int rc;
    if ((rc = ns_put_varint(b, (uint64_t)(r->dep - *prev))) != NS_OK ||
        (rc = ns_put_varint(b, (uint64_t)r->events)) != NS_OK ||
        (rc = ns_put_varint(b, (uint64_t)r->ntlmv1)) != NS_OK ||
        (rc = ns_put_varint(b, ns_zigzag(r->first_seen - day * DAY_US))) != NS_OK ||
        (rc = ns_put_varint(b, ns_zigzag(r->last_seen - r->first_seen))) != NS_OK) {
        return rc;
    }
    *prev = r->dep;
    return NS_OK;
}

/* Stores st->day_pack (n entries) as part `part` of day. */
static int put_part(struct ns_store *st, int64_t day, int64_t part, int64_t n)
{
    sqlite3_stmt *put = ns_store_stmt(st, NS_STMT_PACK_PUT);
    int step;
    if (!put) {
        return NS_EDB;
    }
    sqlite3_bind_int64(put, 1, day);
    sqlite3_bind_int64(put, 2, part);
    sqlite3_bind_int64(put, 3, n);
    sqlite3_bind_blob(put, 4, st->day_pack.data, (int)st->day_pack.len, SQLITE_STATIC);
    step = sqlite3_step(put);
    sqlite3_reset(put);
    return step == SQLITE_DONE ? NS_OK : ns_store_fail(st, "storing a day's pack");
}

/* Packs day whole from its rows of dep_daily, replacing its parts; a day too large to pack
 * (or without rows) keeps none. */
static int pack_whole(struct ns_store *st, int64_t day)
{
    sqlite3_stmt *q = ns_store_stmt(st, NS_STMT_DAY_ROWS),
                 *drop = ns_store_stmt(st, NS_STMT_PACK_DROP);
    int64_t n = 0, prev = 0;
    int rc = NS_OK, step;
    if (!q || !drop) {
        return NS_EDB;
    }
    sqlite3_bind_int64(drop, 1, day);
    step = sqlite3_step(drop);
    sqlite3_reset(drop);
    if (step != SQLITE_DONE) {
        return ns_store_fail(st, "dropping a day's pack");
    }
    ns_buf_reset(&st->day_pack);
    sqlite3_bind_int64(q, 1, day);
    while (rc == NS_OK && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ns_pack_row r;
        r.dep = sqlite3_column_int64(q, 0);
        r.events = sqlite3_column_int64(q, 1);
        r.ntlmv1 = sqlite3_column_int64(q, 2);
        r.first_seen = sqlite3_column_int64(q, 3);
        r.last_seen = sqlite3_column_int64(q, 4);
        if ((rc = pack_entry(&st->day_pack, day, &prev, &r)) == NS_OK) {
            n++;
        }
    }
    sqlite3_reset(q);
    if (rc == NS_OK && step != SQLITE_DONE) {
        return ns_store_fail(st, "reading a day's dependencies");
    }
    if (rc == NS_ENOMEM) {
        snprintf(st->errmsg, sizeof(st->errmsg), "packing a day: out of memory");
        return rc;
    }
    /* too large (NS_ETOOBIG) or no rows: no pack, ranges read the day's rows */
    return rc != NS_OK || !n ? NS_OK : put_part(st, day, 0, n);
}

int ns_range_pack_add(struct ns_store *st, int64_t day, const struct ns_pack_row *rows, size_t n)
{
    sqlite3_stmt *q = ns_store_stmt(st, NS_STMT_PACK_PARTS);
    int64_t parts = 0, last = -1, whole = 0, added = 0, prev = 0;
    int rc = NS_OK, step;
    if (!q) {
        return NS_EDB;
    }
    sqlite3_bind_int64(q, 1, day);
    if ((step = sqlite3_step(q)) == SQLITE_ROW) {
        parts = sqlite3_column_int64(q, 0);
        last = sqlite3_column_int64(q, 1);
        whole = sqlite3_column_int64(q, 2);
        added = sqlite3_column_int64(q, 3);
    }
    sqlite3_reset(q);
    if (step != SQLITE_ROW) {
        return ns_store_fail(st, "reading a day's packs");
    }
    /* a day without packs (new, or too large once), with many parts, or whose parts would
     * outgrow its whole pack: packed whole (a range then decodes at most twice a day's
     * entries, and repacking costs each entry appended about one entry read) */
    if (!parts || parts >= PACK_PARTS_MAX || added + (int64_t)n > whole) {
        return pack_whole(st, day);
    }
    ns_buf_reset(&st->day_pack);
    for (size_t k = 0; k < n && rc == NS_OK; k++) {
        rc = pack_entry(&st->day_pack, day, &prev, &rows[k]);
    }
    if (rc == NS_ENOMEM) {
        snprintf(st->errmsg, sizeof(st->errmsg), "packing a day: out of memory");
        return rc;
    }
    return rc != NS_OK ? pack_whole(st, day) : put_part(st, day, last + 1, (int64_t)n);
}

int ns_range_pack_all(struct ns_store *st)
{
    sqlite3_stmt *days = ns_store_stmt(st, NS_STMT_DAYS);
    int rc = NS_OK, step;
    if (!days) {
        return NS_EDB;
    }
    while (rc == NS_OK && (step = sqlite3_step(days)) == SQLITE_ROW) {
        rc = pack_whole(st, sqlite3_column_int64(days, 0));
    }
    if (rc == NS_OK && step != SQLITE_DONE) {
        rc = ns_store_fail(st, "listing the days");
    }
    sqlite3_reset(days);
    return rc;
}

/* The sums being built: an array by id (dense) or a hash table. */
struct sums {
    struct ns_range_row *t;
    size_t cap, used;
    int64_t max_id;
    int dense;
};

/* The row of dep in the sums, or NULL (a dependency not in table dep, or out of memory:
 * *rc says). */
static struct ns_range_row *sums_row(struct sums *u, int64_t dep, int *rc)
{
    struct ns_range_row *r;
    if (u->dense) {
        if (dep <= 0 || dep > u->max_id) {
            return NULL;
        }
        r = &u->t[dep];
        if (!r->dep) {
            r->dep = dep;
            r->first_seen = INT64_MAX;
            r->last_seen = r->last_day = INT64_MIN;
        }
        return r;
    }
    if ((u->used + 1) * 2 > u->cap && (*rc = grow(&u->t, &u->cap)) != SQLITE_OK) {
        return NULL;
    }
    return slot_of(u->t, u->cap, dep, &u->used);
}

static void sums_add(struct ns_range_row *r, int64_t day, int64_t events, int64_t ntlmv1,
                     int64_t first, int64_t last)
{
    r->events += events;
    r->ntlmv1 += ntlmv1;
    r->first_seen = first < r->first_seen ? first : r->first_seen;
    r->last_seen = last > r->last_seen ? last : r->last_seen;
    r->last_day = day > r->last_day ? day : r->last_day;
}

/* Adds a day's pack to the sums; SQLITE_CORRUPT when it does not decode. */
static int sums_add_pack(struct sums *u, int64_t day, const unsigned char *p, size_t n)
{
    size_t pos = 0;
    int64_t dep = 0;
    int rc = SQLITE_OK;
    while (pos < n) {
        uint64_t v[5];
        struct ns_range_row *r;
        for (int k = 0; k < 5; k++) {
            if (ns_get_varint(p, n, &pos, &v[k]) != 0) {
                return SQLITE_CORRUPT;
            }
        }
        dep += (int64_t)v[0];
        if (dep <= 0) {
            return SQLITE_CORRUPT; /* ids are positive and ascending */
        }
        if ((r = sums_row(u, dep, &rc))) {
            int64_t first = day * DAY_US + ns_unzigzag(v[3]);
            sums_add(r, day, (int64_t)v[1], (int64_t)v[2], first, first + ns_unzigzag(v[4]));
        } else if (rc != SQLITE_OK) {
            return rc;
        }
    }
    return SQLITE_OK;
}

/* Adds the rows of dep_daily of days since .. until to the sums. */
static int sums_add_rows(struct sums *u, sqlite3 *db, int64_t since, int64_t until)
{
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db, ns_sql_text("dep_range_scan.sql"), -1, &q, NULL), step;
    if (rc != SQLITE_OK) {
        return rc;
    }
    sqlite3_bind_int64(q, 1, since);
    sqlite3_bind_int64(q, 2, until);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ns_range_row *r = sums_row(u, sqlite3_column_int64(q, 1), &rc);
        if (r) {
            sums_add(r, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 2),
                     sqlite3_column_int64(q, 3), sqlite3_column_int64(q, 4),
                     sqlite3_column_int64(q, 5));
        } else if (rc != SQLITE_OK) {
            break;
        }
    }
    if (rc == SQLITE_OK && step != SQLITE_DONE) {
        rc = sqlite3_errcode(db);
    }
    sqlite3_finalize(q);
    return rc;
}

/* Sums the days since .. until: each day's pack, else its rows. */
static int sums_range(struct sums *u, sqlite3 *db, int64_t since, int64_t until)
{
    sqlite3_stmt *q = NULL;
    int64_t *packed = NULL; /* the days read from their pack, ascending */
    size_t npacked = 0, cap = 0;
    int rc = sqlite3_prepare_v2(db, ns_sql_text("dep_pack_range.sql"), -1, &q, NULL), step;
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, since);
        sqlite3_bind_int64(q, 2, until);
        while ((step = sqlite3_step(q)) == SQLITE_ROW) {
            int64_t day = sqlite3_column_int64(q, 0);
            const unsigned char *p = sqlite3_column_blob(q, 1);
            if (npacked == cap) {
                int64_t *np = realloc(packed, (cap = cap ? cap * 2 : 64) * sizeof(*np));
                if (!np) {
                    rc = SQLITE_NOMEM;
                    break;
                }
                packed = np;
            }
            if (!npacked || packed[npacked - 1] != day) { /* (a day's parts come together) */
                packed[npacked++] = day;
            }
            if ((rc = sums_add_pack(u, day, p, (size_t)sqlite3_column_bytes(q, 1))) != SQLITE_OK) {
                break;
            }
        }
        if (rc == SQLITE_OK && step != SQLITE_DONE) {
            rc = sqlite3_errcode(db);
        }
    }
    sqlite3_finalize(q);
    q = NULL;
    /* the days with rows but no pack */
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db, ns_sql_text("dep_range_days.sql"), -1, &q, NULL);
    }
    if (rc == SQLITE_OK) {
        size_t k = 0;
        sqlite3_bind_int64(q, 1, since);
        sqlite3_bind_int64(q, 2, until);
        while (rc == SQLITE_OK && (step = sqlite3_step(q)) == SQLITE_ROW) {
            int64_t day = sqlite3_column_int64(q, 0);
            while (k < npacked && packed[k] < day) {
                k++;
            }
            if (k == npacked || packed[k] != day) {
                rc = sums_add_rows(u, db, day, day);
            }
        }
        if (rc == SQLITE_OK && step != SQLITE_DONE) {
            rc = sqlite3_errcode(db);
        }
    }
    sqlite3_finalize(q);
    free(packed);
    return rc;
}

/* Dependencies up to this id are summed in an array indexed by id (ids are dense: dep never
 * loses rows); a database with larger ids uses a hash table. */
#define DENSE_MAX_ID 1000000

int ns_range_sums(sqlite3 *db, int64_t since, int64_t until, struct ns_range_row **rows, size_t *n)
{
    sqlite3_stmt *q = NULL;
    struct sums u;
    size_t k, m = 0;
    int rc;
    memset(&u, 0, sizeof(u));
    *rows = NULL;
    *n = 0;
    rc = sqlite3_prepare_v2(db, ns_sql_text("dep_max_id.sql"), -1, &q, NULL);
    if (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
        u.max_id = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    u.dense = u.max_id >= 0 && u.max_id <= DENSE_MAX_ID;
    u.cap = u.dense ? (size_t)u.max_id + 1 : 1024;
    if (rc == SQLITE_OK && !(u.t = calloc(u.cap, sizeof(*u.t)))) {
        rc = SQLITE_NOMEM;
    }
    if (rc == SQLITE_OK) {
        rc = sums_range(&u, db, since, until);
    }
    if (rc != SQLITE_OK) {
        free(u.t);
        return rc;
    }
    /* compact in place, in dependency order */
    for (k = 0; k < u.cap; k++) {
        if (u.t[k].dep) {
            u.t[m++] = u.t[k];
        }
    }
    if (!u.dense) {
        qsort(u.t, m, sizeof(*u.t), by_dep);
    }
    *rows = u.t;
    *n = m;
    return SQLITE_OK;
}

void ns_range_cache_clear(struct ns_range_cache *c)
{
    free(c->rows);
    c->rows = NULL;
    c->n = 0;
    c->valid = 0;
}

int ns_range_cached(sqlite3 *db, struct ns_range_cache *c, int64_t since, int64_t until)
{
    int64_t version = ns_data_version(db), changes = sqlite3_total_changes64(db);
    int rc;
    if (c->valid && version >= 0 && since == c->since && until == c->until &&
        version == c->version && changes == c->changes) {
        return SQLITE_OK;
    }
    ns_range_cache_clear(c);
    if ((rc = ns_range_sums(db, since, until, &c->rows, &c->n)) != SQLITE_OK) {
        return rc;
    }
    c->since = since;
    c->until = until;
    c->version = version;
    c->changes = changes;
    c->valid = version >= 0; /* (a version not known is never trusted again) */
    return SQLITE_OK;
}

static int range_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc,
                        sqlite3_value **argv)
{
    struct range_cursor *c = (struct range_cursor *)cur;
    struct range_vtab *v = (struct range_vtab *)cur->pVtab;
    int rc;
    (void)idx;
    (void)idxstr;
    free(c->rows);
    c->rows = NULL;
    c->n = c->at = 0;
    if (argc != 2) {
        return SQLITE_ERROR;
    }
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
        return SQLITE_OK; /* no range: no rows */
    }
    rc = ns_range_cached(v->db, v->cache, sqlite3_value_int64(argv[0]),
                         sqlite3_value_int64(argv[1]));
    if (rc != SQLITE_OK) {
        return rc;
    }
    if (!(c->rows = copy_rows(v->cache->rows, v->cache->n))) {
        return SQLITE_NOMEM;
    }
    c->n = v->cache->n;
    return SQLITE_OK;
}

static int range_next(sqlite3_vtab_cursor *cur)
{
    ((struct range_cursor *)cur)->at++;
    return SQLITE_OK;
}

static int range_eof(sqlite3_vtab_cursor *cur)
{
    const struct range_cursor *c = (const struct range_cursor *)cur;
    return c->at >= c->n;
}

static int range_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const struct range_cursor *c = (const struct range_cursor *)cur;
    const struct ns_range_row *r = &c->rows[c->at];
    int64_t v[] = {r->dep, r->events, r->ntlmv1, r->first_seen, r->last_seen, r->last_day};
    if (col >= 0 && col < (int)(sizeof(v) / sizeof(v[0]))) {
        sqlite3_result_int64(ctx, v[col]);
    } else {
        sqlite3_result_null(ctx);
    }
    return SQLITE_OK;
}

static int range_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((const struct range_cursor *)cur)->at;
    return SQLITE_OK;
}

static const sqlite3_module range_module = {
    .iVersion = 0,
    .xConnect = range_connect,
    .xBestIndex = range_best_index,
    .xDisconnect = range_disconnect,
    .xOpen = range_open,
    .xClose = range_close,
    .xFilter = range_filter,
    .xNext = range_next,
    .xEof = range_eof,
    .xColumn = range_column,
    .xRowid = range_rowid,
};

int ns_range_register(sqlite3 *db, struct ns_range_cache *cache)
{
    return sqlite3_create_module(db, "ns_dep_range", &range_module, cache) == SQLITE_OK ? NS_OK
                                                                                        : NS_EDB;
}
