/*
 * store.c - SQLite storage: open + migrate, batched idempotent ingest with rollups
 * aggregated in memory per batch, and the named views.
 */
#include "ns_sql.h"
#include "store_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ========================================================================================== */
/* Embedded SQL                                                                                */
/* ========================================================================================== */

const char *ns_sql_text(const char *name)
{
    for (const struct ns_sql_file *f = ns_sql_files; f->name; f++) {
        if (!strcmp(f->name, name)) {
            return f->text;
        }
    }
    return NULL;
}

static int copy_v4_events(struct ns_store *st);

/* Migrations: the schema version each file brings the database to, in order; some copy data
 * in C after the file (the store's own code, so rows come out as ingest makes them) and then
 * run a last file. */
static const struct {
    int version;                      /* user_version after the file ran */
    const char *file;                 /* sql/ file */
    int (*copy)(struct ns_store *st); /* then this, or NULL */
    const char *finish;               /* then this sql/ file, or NULL */
    const char *what;                 /* what it does, told when an existing database upgrades */
} migrations[] = {
    {1, "schema.sql", NULL, NULL, "the first schema"},
    {2, "migrate_002_agents.sql", NULL, NULL, "agents and tokens"},
    {3, "migrate_003_exceptions.sql", NULL, NULL, "exception-list rollups"},
    {4, "migrate_004_dep_dimension.sql", NULL, NULL, "the dependency table"},
    {5, "migrate_005_compact_events.sql", copy_v4_events, "migrate_005_finish.sql",
     "rewriting every event in the compact form"},
    {6, "migrate_006_dep_totals.sql", NULL, NULL, "running totals per dependency"},
    {7, "migrate_007_day_totals.sql", NULL, NULL, "running totals per day"},
    {8, "migrate_008_burndown.sql", NULL, NULL, "counting the burn-down"},
    {9, "migrate_009_day_index.sql", NULL, NULL, "rebuilding the dependency index by day"},
    {10, "migrate_010_group_keys.sql", NULL, NULL, "keying dependencies' names for grouping"},
    {11, "migrate_011_host_totals.sql", NULL, NULL, "running totals per reporting host"},
    {12, "migrate_012_day_packs.sql", ns_range_pack_all, NULL, "packing each day's dependencies"},
    {13, "migrate_013_inline_addresses.sql", NULL, NULL, "addresses kept inline in new events"},
    {14, "migrate_014_rollup_ids.sql", NULL, NULL,
     "keying the exception-list and host rollups by interned names"},
};

/* The views: name, the sql/ file that answers it, the file prepended to it (shared CTEs) or
 * appended to it (shared columns), and the constants bound to :v1_only and :kind; a view with
 * a dep_file answers from it when a dependency filter (client ... version) is given. A view
 * prefixed with dep_range_part.sql is prepared again with dep_range_whole.sql, which answers
 * when its range holds every stored day; both are followed by dep_range_x.sql, then
 * dep_range_all.sql, or dep_range_search.sql when a view that searches its dependencies
 * (search) is given :q. */
static const struct {
    const char *name;     /* view name (report --view, /api/v1/views/NAME) */
    const char *file;     /* sql/ file */
    const char *prefix;   /* sql/ file it continues, or NULL */
    const char *suffix;   /* sql/ file that ends it, or NULL */
    int v1_only;          /* bound to :v1_only */
    const char *kind;     /* bound to :kind, or NULL */
    const char *dep_file; /* sql/ file used with a dependency filter, or NULL */
    int search;           /* :q searches its dependencies' names (sql/dep_range_search.sql) */
    int grouped;          /* groups them with ns_dep_group (store/group.c), given :whole */
} views[] = {
    {"dependencies", "view_dependencies.sql", "dep_range_part.sql", NULL, 0, NULL, NULL, 1, 0},
    {"accounts", "view_accounts.sql", NULL, NULL, 0, NULL, NULL, 0, 1},
    {"processes", "view_processes.sql", NULL, NULL, 0, NULL, NULL, 0, 1},
    {"reasons", "view_reasons.sql", NULL, NULL, 0, NULL, NULL, 0, 1},
    {"targets", "view_targets.sql", NULL, NULL, 0, NULL, NULL, 0, 1},
    {"clients", "view_clients.sql", NULL, NULL, 0, NULL, NULL, 0, 1},
    {"ntlmv1", "view_dependencies.sql", "dep_range_part.sql", NULL, 1, NULL, NULL, 1, 0},
    {"hosts", "view_hosts.sql", NULL, NULL, 0, NULL, NULL, 0, 0},
    {"trend", "view_trend.sql", NULL, NULL, 0, NULL, NULL, 0, 0},
    {"events", "view_events.sql", NULL, "events_columns.sql", 0, NULL, "view_events_dep.sql", 0, 0},
    {"readiness", "view_readiness.sql", NULL, NULL, 0, NULL, NULL, 0, 1},
    {"burndown", "view_burndown.sql", NULL, NULL, 0, NULL, NULL, 0, 0},
    {"totals", "view_totals.sql", NULL, NULL, 0, NULL, NULL, 0, 1},
    {"remote_server_exceptions", "view_server_exceptions.sql", NULL, NULL, 0, "remote", NULL, 0, 0},
    {"domain_server_exceptions", "view_server_exceptions.sql", NULL, NULL, 0, "domain", NULL, 0, 0},
    {"ntlmv1_blockers", "view_ntlmv1_blockers.sql", NULL, NULL, 0, NULL, NULL, 0, 0},
    {"new_dependencies", "view_new_dependencies.sql", NULL, NULL, 0, NULL, NULL, 0, 0},
    {"retired_dependencies", "view_retired_dependencies.sql", NULL, NULL, 0, NULL, NULL, 0, 0},
    {"quiet_targets", "view_quiet_targets.sql", NULL, NULL, 0, NULL, NULL, 0, 0},
    {"silent_hosts", "view_silent_hosts.sql", NULL, NULL, 0, NULL, NULL, 0, 0},
};
_Static_assert(sizeof(views) / sizeof(views[0]) == NVIEWS, "NVIEWS matches views[]");

/* Files of the statements prepared on first use, by enum ns_stmt. */
static const char *const stmt_files[NS_STMT_COUNT] = {
    "token_add.sql",      "token_list.sql",   "token_revoke.sql",     "token_valid.sql",
    "agent_seen.sql",     "agent_list.sql",   "summary_sent_get.sql", "summary_sent_add.sql",
    "dep_day_rows.sql",   "dep_pack_put.sql", "dep_pack_drop.sql",    "dep_days.sql",
    "dep_pack_parts.sql",
};

/* The names alone, ended by NULL (ns_store_views). */
static const char *const view_names[NVIEWS + 1] = {
    "dependencies", "accounts", "processes", "reasons", "targets", "clients",
    "ntlmv1",       "hosts",    "trend",     "events",  NULL};

/* ========================================================================================== */
/* Rollup aggregation                                                                          */
/* ========================================================================================== */

/* Text parts of a dependency: the key (compared without case), then the addresses, which
 * are attributes of the dependency. */
enum dep_part {
    DP_CLIENT,
    DP_ACCOUNT,
    DP_DOMAIN,
    DP_PROCESS,
    DP_TARGET,
    DP_TARGET_SERVICE,
    DP_NTLM_VERSION,
    DP_KEYS, /* parts before this one form the key */
    DP_CLIENT_IP = DP_KEYS,
    DP_TARGET_IP,
    DP_COUNT
};

/* The canonical field behind each part. */
static const enum ns_field dep_fields[DP_COUNT] = {
    NS_F_client_machine, NS_F_account,        NS_F_account_domain,
    NS_F_process_name,   NS_F_target_machine, NS_F_target_service,
    NS_F_ntlm_version,   NS_F_client_ip,      NS_F_target_ip,
};

/* A dependency's identity. */
struct dep_key {
    int64_t reason_id;         /* -1 when absent */
    const char *part[DP_KEYS]; /* "" when absent */
    int64_t dep_id;            /* dep.id once known */
};

/* Text parts of a rollup row: a dependency's row keeps its latest addresses there, a host's
 * its role (its key with the computer's id). */
#define AGG_PARTS 2
#define AGG_CLIENT_IP 0
#define AGG_TARGET_IP 1
/* Integer keys of a rollup row (str.id): an exception-list row's kind, name, client and
 * account, then the name as written (not compared); a host's computer. */
#define AGG_KEYS 5
#define EXC_SPELLED 4

/* One aggregated rollup row (dependency, exception list or host) of the current batch. */
struct agg {
    uint64_t hash;               /* of the key, 0 = empty slot */
    uint64_t dep_h1, dep_h2;     /* a dependency row: its key's hashes (the id cache's key) */
    int64_t day;                 /* day number */
    int64_t key[AGG_KEYS];       /* integer keys (0 when absent): exceptions use 4, hosts 1 */
    const char *part[AGG_PARTS]; /* text parts ("" when absent): hosts' 1 is a key */
    int64_t events;              /* events in the batch */
    int64_t ntlmv1;              /* of which NTLMv1 / LM */
    int64_t warnings;            /* of which level 3 */
    int64_t blocked;             /* of which outcome blocked */
    int64_t first_seen;          /* earliest time_created */
    int64_t last_seen;           /* latest time_created */
    int64_t dep_id;              /* dep.id (dependencies), 0 until known */
};

static uint64_t hash_str(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return (h ^ 0x1f) * 1099511628211ull;
}

/* Doubles the index of t (or makes its first). */
static int agg_grow(struct agg_table *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 2048;
    uint64_t *ns = calloc(ncap, sizeof(*ns));
    if (!ns) {
        return NS_ENOMEM;
    }
    for (size_t k = 0; k < t->used; k++) {
        size_t m = t->rows[k].hash & (ncap - 1);
        while (ns[m]) {
            m = (m + 1) & (ncap - 1);
        }
        ns[m] = (t->rows[k].hash & ~(uint64_t)UINT32_MAX) | (uint64_t)(k + 1);
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return NS_OK;
}

/* Makes room in t for one more row: half as many again each time. */
static int agg_room(struct agg_table *t)
{
    size_t nroom = t->room ? t->room + t->room / 2 : 1024;
    struct agg *nr;
    if (t->used < t->room) {
        return NS_OK;
    }
    if (nroom >= UINT32_MAX || !(nr = realloc(t->rows, nroom * sizeof(*nr)))) {
        return NS_ENOMEM;
    }
    t->rows = nr;
    t->room = nroom;
    return NS_OK;
}

/* Whether rows a and b of a table have one key: day, dependency, its first nkeys integer
 * keys and nparts text parts (compared exactly). */
static int agg_same(const struct agg *a, const struct agg *b, int nkeys, int nparts)
{
    if (a->day != b->day || a->dep_id != b->dep_id) {
        return 0;
    }
    for (int k = 0; k < nkeys; k++) {
        if (a->key[k] != b->key[k]) {
            return 0;
        }
    }
    for (int k = 0; k < nparts; k++) {
        if (strcmp(a->part[k], b->part[k])) {
            return 0;
        }
    }
    return 1;
}

/* The hash of a rollup row's key (agg_same's). */
static uint64_t agg_hash(const struct agg *key, int nkeys, int nparts)
{
    uint64_t h = 1469598103934665603ull;
    h = (h ^ (uint64_t)key->day) * 1099511628211ull;
    h = (h ^ (uint64_t)key->dep_id) * 1099511628211ull;
    for (int k = 0; k < nkeys; k++) {
        h = (h ^ (uint64_t)key->key[k]) * 1099511628211ull;
    }
    h ^= h >> 29; /* ids and days differ in their low bits: spread them */
    for (int k = 0; k < nparts; k++) {
        h = hash_str(h, key->part[k]);
    }
    return h ? h : 1;
}

/* Finds or inserts the row for key, whose agg_hash is h; copies the key text into arena on
 * insert. The row stays where it is until the next insert into t. */
static struct agg *agg_find(struct agg_table *t, const struct agg *key, uint64_t h,
                            struct ns_arena *arena)
{
    const uint64_t tag = h & ~(uint64_t)UINT32_MAX;
    struct agg *row;
    size_t m;
    if ((t->used + 1) * 2 > t->cap && agg_grow(t) != NS_OK) {
        return NULL;
    }
    m = h & (t->cap - 1);
    for (; t->slots[m]; m = (m + 1) & (t->cap - 1)) {
        if ((t->slots[m] & ~(uint64_t)UINT32_MAX) == tag) {
            row = &t->rows[(t->slots[m] & UINT32_MAX) - 1];
            if (row->hash == h && agg_same(row, key, t->nkeys, t->nparts)) {
                return row;
            }
        }
    }
    if (agg_room(t) != NS_OK) {
        return NULL;
    }
    row = &t->rows[t->used];
    *row = *key;
    row->hash = h;
    for (int k = 0; k < t->nparts; k++) {
        if (!(row->part[k] = ns_arena_strdup(arena, key->part[k]))) {
            return NULL;
        }
    }
    row->events = 0;
    row->ntlmv1 = row->warnings = row->blocked = 0;
    row->first_seen = INT64_MAX;
    row->last_seen = INT64_MIN;
    t->slots[m] = tag | (uint64_t)++t->used;
    return row;
}

static void agg_clear(struct agg_table *t)
{
    if (t->slots) {
        memset(t->slots, 0, t->cap * sizeof(*t->slots));
    }
    t->used = 0;
}

static void agg_free(struct agg_table *t)
{
    free(t->slots);
    free(t->rows);
    t->slots = NULL;
    t->rows = NULL;
    t->cap = t->room = t->used = 0;
}

/* The dependency id cache forgets everything past this many dependencies (then refills). */
#define DEP_CACHE_MAX (1u << 16)

/* No day (a dependency never seen, or never with NTLMv1). */
#define NULL_DAY INT64_MIN

struct dep_slot {
    uint64_t h1, h2;     /* two independent hashes of the key; h1 0 = empty */
    int64_t id;          /* dep.id */
    int64_t last_day;    /* dep.last_day as the batch's flush leaves it, or NULL_DAY */
    int64_t last_v1_day; /* dep.last_v1_day likewise */
};

/* The two hashes of a dependency key (reason and parts compared without case, as the dep
 * table's NOCASE columns do): FNV-1a and a multiply-rotate hash, each part closed by its
 * position so ("ab","c") and ("a","bc") differ. A false match needs both 64-bit hashes of two
 * keys to collide. */
static void dep_key_hash(const struct dep_key *key, uint64_t *h1, uint64_t *h2)
{
    uint64_t a = 1469598103934665603ull, b = 0x9e3779b97f4a7c15ull ^ (uint64_t)key->reason_id;
    a = (a ^ (uint64_t)key->reason_id) * 1099511628211ull;
    for (int k = 0; k < DP_KEYS; k++) {
        for (const char *s = key->part[k]; *s; s++) {
            uint64_t c = (unsigned char)tolower((unsigned char)*s);
            a = (a ^ c) * 1099511628211ull;
            b = (b ^ c) * 0xff51afd7ed558ccdull;
            b = (b << 31) | (b >> 33);
        }
        a = (a ^ (0x100u + (unsigned)k)) * 1099511628211ull;
        b = ((b ^ (0x100u + (unsigned)k)) * 0xc4ceb9fe1a85ec53ull);
        b ^= b >> 32;
    }
    *h1 = a ? a : 1;
    *h2 = b;
}

static void dep_cache_clear(struct dep_cache *c)
{
    if (c->slots) {
        memset(c->slots, 0, c->cap * sizeof(*c->slots));
    }
    c->used = 0;
}

/* The cached entry of the key with hashes h1, h2, or NULL. */
static struct dep_slot *dep_cache_get(const struct dep_cache *c, uint64_t h1, uint64_t h2)
{
    if (!c->cap) {
        return NULL;
    }
    for (size_t m = h1 & (c->cap - 1); c->slots[m].h1; m = (m + 1) & (c->cap - 1)) {
        if (c->slots[m].h1 == h1 && c->slots[m].h2 == h2) {
            return &c->slots[m];
        }
    }
    return NULL;
}

/* Remembers a dependency; a full cache starts again empty (entries are only a shortcut).
 * Returns its entry, or NULL when out of memory. */
static struct dep_slot *dep_cache_put(struct dep_cache *c, uint64_t h1, uint64_t h2, int64_t id,
                                      int64_t last_day, int64_t last_v1_day)
{
    size_t m;
    if (c->used >= DEP_CACHE_MAX) {
        dep_cache_clear(c);
    }
    if ((c->used + 1) * 4 > c->cap * 3) {
        size_t ncap = c->cap ? c->cap * 2 : 4096;
        struct dep_slot *ns = calloc(ncap, sizeof(*ns));
        if (!ns) {
            return NULL;
        }
        for (size_t k = 0; k < c->cap; k++) {
            if (c->slots[k].h1) {
                for (m = c->slots[k].h1 & (ncap - 1); ns[m].h1; m = (m + 1) & (ncap - 1)) {
                }
                ns[m] = c->slots[k];
            }
        }
        free(c->slots);
        c->slots = ns;
        c->cap = ncap;
    }
    for (m = h1 & (c->cap - 1); c->slots[m].h1; m = (m + 1) & (c->cap - 1)) {
    }
    c->slots[m].h1 = h1;
    c->slots[m].h2 = h2;
    c->slots[m].id = id;
    c->slots[m].last_day = last_day;
    c->slots[m].last_v1_day = last_v1_day;
    c->used++;
    return &c->slots[m];
}

/* ========================================================================================== */
/* The store                                                                                   */
/* ========================================================================================== */

int ns_store_fail(struct ns_store *st, const char *what)
{
    snprintf(st->errmsg, sizeof(st->errmsg), "%s: %s", what, sqlite3_errmsg(st->db));
    return NS_EDB;
}

const char *ns_store_errmsg(const struct ns_store *st)
{
    return st->errmsg;
}

static int prepare(struct ns_store *st, const char *file, sqlite3_stmt **out)
{
    const char *text = ns_sql_text(file);
    if (!text) {
        snprintf(st->errmsg, sizeof(st->errmsg), "sql/%s is not compiled in", file);
        return NS_EDB;
    }
    if (sqlite3_prepare_v3(st->db, text, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK) {
        return ns_store_fail(st, file);
    }
    return NS_OK;
}

static int exec_file(struct ns_store *st, const char *file)
{
    const char *text = ns_sql_text(file);
    char *msg = NULL;
    if (!text) {
        snprintf(st->errmsg, sizeof(st->errmsg), "sql/%s is not compiled in", file);
        return NS_EDB;
    }
    if (sqlite3_exec(st->db, text, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(st->errmsg, sizeof(st->errmsg), "%s: %s", file, msg ? msg : "error");
        sqlite3_free(msg);
        return NS_EDB;
    }
    return NS_OK;
}

static int user_version(struct ns_store *st, int *v)
{
    sqlite3_stmt *s = NULL;
    int rc = NS_OK;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK) {
        return ns_store_fail(st, "reading the schema version");
    }
    if (sqlite3_step(s) == SQLITE_ROW) {
        *v = sqlite3_column_int(s, 0);
    } else {
        rc = ns_store_fail(st, "reading the schema version");
    }
    sqlite3_finalize(s);
    return rc;
}

/* Brings the schema to NS_SCHEMA_VERSION, one transaction per migration. */
static int migrate(struct ns_store *st)
{
    int v = 0, rc;
    if ((rc = user_version(st, &v)) != NS_OK) {
        return rc;
    }
    if (v > NS_SCHEMA_VERSION) {
        snprintf(st->errmsg, sizeof(st->errmsg),
                 "the database has schema version %d, newer than this ntlmscope (%d): "
                 "upgrade ntlmscope",
                 v, NS_SCHEMA_VERSION);
        return NS_EDB;
    }
    for (size_t k = 0; k < sizeof(migrations) / sizeof(migrations[0]); k++) {
        char pragma[64];
        struct timespec t0, t1;
        if (migrations[k].version <= v) {
            continue;
        }
        if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
            return ns_store_fail(st, "starting a migration");
        }
        if (v > 0) { /* an existing database: some steps take minutes on a large one */
            fprintf(stderr, "ntlmscope: upgrading the database to schema version %d: %s...\n",
                    migrations[k].version, migrations[k].what);
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", migrations[k].version);
        if ((rc = exec_file(st, migrations[k].file)) != NS_OK ||
            (migrations[k].copy && (rc = migrations[k].copy(st)) != NS_OK) ||
            (migrations[k].finish && (rc = exec_file(st, migrations[k].finish)) != NS_OK) ||
            sqlite3_exec(st->db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            if (rc == NS_OK) {
                rc = ns_store_fail(st, migrations[k].file);
            }
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            ns_intern_clear(&st->strs);
            dep_cache_clear(&st->dep_ids);
            return rc;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (v > 0) {
            fprintf(stderr, "ntlmscope: schema version %d done (%.1f s)\n", migrations[k].version,
                    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
        }
    }
    dep_cache_clear(&st->dep_ids); /* a copy left entries without their last days */
    return NS_OK;
}

/* Prepares a statement unless it already is. */
static int prepare_once(struct ns_store *st, const char *file, sqlite3_stmt **out)
{
    return *out ? NS_OK : prepare(st, file, out);
}

/* Prepares what storing an event needs (the schema-5 migration needs it early). */
static int prepare_store_event(struct ns_store *st)
{
    int rc;
    if ((rc = prepare_once(st, "event_insert.sql", &st->insert_event)) != NS_OK ||
        (rc = prepare_once(st, "dep_find.sql", &st->find_dep)) != NS_OK ||
        (rc = prepare_once(st, "dep_insert.sql", &st->insert_dep)) != NS_OK ||
        (rc = prepare_once(st, "str_get.sql", &st->str_get)) != NS_OK) {
        return rc;
    }
    return prepare_once(st, "str_add.sql", &st->str_add);
}

/* Prepares the ingest statements. */
static int prepare_ingest(struct ns_store *st)
{
    int rc;
    if ((rc = prepare_store_event(st)) != NS_OK ||
        (rc = prepare_once(st, "host_upsert.sql", &st->upsert_host)) != NS_OK ||
        (rc = prepare_once(st, "exc_upsert.sql", &st->upsert_exc)) != NS_OK ||
        (rc = prepare_once(st, "dep_day_upsert.sql", &st->upsert_depday)) != NS_OK) {
        return rc;
    }
    if ((rc = prepare_once(st, "dep_total_add.sql", &st->add_deptotal)) != NS_OK ||
        (rc = prepare_once(st, "dep_day_insert.sql", &st->insert_depday)) != NS_OK ||
        (rc = prepare_once(st, "dep_day_add.sql", &st->add_depday)) != NS_OK) {
        return rc;
    }
    if ((rc = prepare_once(st, "day_active_add.sql", &st->add_dayactive)) != NS_OK ||
        (rc = prepare_once(st, "dep_last_days.sql", &st->dep_last_days)) != NS_OK ||
        (rc = prepare_once(st, "dep_day_seen.sql", &st->dep_day_seen)) != NS_OK ||
        (rc = prepare_once(st, "dep_insert_keyed.sql", &st->insert_dep_keyed)) != NS_OK ||
        (rc = prepare_once(st, "host_total_add.sql", &st->add_hosttotal)) != NS_OK) {
        return rc;
    }
    return prepare_once(st, "day_total_add.sql", &st->add_daytotal);
}

/* Keeps the reason table equal to the compiled-in catalogue. */
static int sync_reasons(struct ns_store *st)
{
    sqlite3_stmt *s = NULL;
    size_t n;
    const struct ns_reason *r = ns_reason_all(&n);
    int rc = prepare(st, "reason_upsert.sql", &s);
    if (rc != NS_OK) {
        return rc;
    }
    if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_finalize(s);
        return ns_store_fail(st, "updating reasons");
    }
    for (size_t k = 0; k < n && rc == NS_OK; k++) {
        sqlite3_bind_int64(s, 1, r[k].id);
        sqlite3_bind_text(s, 2, r[k].text, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, r[k].remediation, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE) {
            rc = ns_store_fail(st, "updating reasons");
        }
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    if (sqlite3_exec(st->db, rc == NS_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK &&
        rc == NS_OK) {
        rc = ns_store_fail(st, "updating reasons");
    }
    return rc;
}

sqlite3_stmt *ns_store_stmt(struct ns_store *st, enum ns_stmt which)
{
    if (!st->cached[which] && prepare(st, stmt_files[which], &st->cached[which]) != NS_OK) {
        return NULL;
    }
    return st->cached[which];
}

/* The fields whose str.id the exception-list rollup reads (struct slice_event). */
enum exc_field { EF_TARGET, EF_SERVER, EF_CLIENT, EF_CLIENT_IP, EF_ACCOUNT, EF_DOMAIN, EF_COUNT };
static const enum ns_field exc_fields[EF_COUNT] = {
    NS_F_target_machine, NS_F_server_name, NS_F_client_machine,
    NS_F_client_ip,      NS_F_account,     NS_F_account_domain,
};

/* An event of the slice being stored (store_slice): its identity, its dependency and where
 * its packed fields are in st->slice_blobs. */
struct slice_event {
    int64_t time, computer, channel, record, dep;
    int64_t ids[EF_COUNT]; /* str.id of the fields the exception lists read */
    uint64_t h1, h2;
    size_t off, len;
};

static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

/* SQLite's global set-up, once, before its first connection: no memory statistics (each of
 * SQLite's allocations would otherwise take a global mutex to count itself). A program that
 * has used SQLite already keeps its settings. */
static void sqlite_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* Opens the connection; a writer migrates and prepares the ingest statements, a reader only
 * checks that the schema is the one this build reads. */
/* WAL checkpoints (checkpoint.c), in bytes of WAL (frames of one page each): a pass starts at
 * 64 MB, the writer copies back the last 24 MB itself, and the WAL stays under 128 MB and a
 * batch. */
#define CKPT_START ((int64_t)64000 * 1024)
#define CKPT_GAP ((int64_t)24000 * 1024)
#define CKPT_LIMIT ((int64_t)128000 * 1024)

/* Attaches the writer's checkpoints, their thresholds in frames of the database's pages. */
static int attach_checkpoints(struct ns_store *st)
{
    sqlite3_stmt *s = NULL;
    int64_t page = 0;
    if (sqlite3_prepare_v2(st->db, "PRAGMA page_size", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        page = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    if (page < 512) {
        return ns_store_fail(st, "reading the page size");
    }
    if (ns_ckpt_attach(st, (int)(CKPT_START / page), (int)(CKPT_GAP / page),
                       (int)(CKPT_LIMIT / page)) != NS_OK) {
        snprintf(st->errmsg, sizeof(st->errmsg), "out of memory");
        return NS_ENOMEM;
    }
    return NS_OK;
}

static int store_open(struct ns_store **out, const char *path, int readonly, char *err,
                      size_t errlen)
{
    struct ns_store *st = calloc(1, sizeof(*st));
    int rc = NS_OK,
        flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    *out = NULL;
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NS_ENOMEM;
    }
    st->deps.nkeys = st->deps.nparts = 0;   /* keyed by dependency id and day */
    st->hosts.nkeys = st->hosts.nparts = 1; /* computer, role */
    st->excs.nkeys = 4;                     /* kind, name, client, account */
    st->excs.nparts = 0;
    st->batch_limit = NS_STORE_BATCH;
    st->rollup_limit = NS_STORE_ROLLUP_ROWS;
    st->readonly = readonly;
    ns_arena_init(&st->keys, (size_t)256 << 20);
    ns_arena_init(&st->strs.text, (size_t)32 << 20);
    ns_buf_init(&st->packed, (size_t)4 << 20);
    ns_buf_init(&st->slice_blobs, STORE_SLICE_BYTES + 4 * (size_t)NS_RAW_MAX_BYTES);
    st->slice = malloc(STORE_SLICE * sizeof(*st->slice));
    st->slice_dup = malloc(STORE_SLICE);
    if (!st->slice || !st->slice_dup) {
        snprintf(err, errlen, "out of memory");
        ns_store_close(st);
        return NS_ENOMEM;
    }
    ns_buf_init(&st->day_pack, (size_t)64 << 20);
    st->last_total = -1;
    st->seen_version = -1;
    pthread_once(&sqlite_once, sqlite_setup);
    if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open the database: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        ns_store_close(st);
        return NS_EDB;
    }
    sqlite3_busy_timeout(st->db, 10000);
    if (ns_pack_register(st->db) != NS_OK || ns_range_register(st->db, &st->range) != NS_OK ||
        ns_group_register(st->db, &st->range) != NS_OK || ns_rows_register(st->db) != NS_OK) {
        rc = ns_store_fail(st, "registering ns_field, ns_dep_range and ns_rows");
    } else if (readonly) {
        int v = 0;
        if ((rc = user_version(st, &v)) == NS_OK && v != NS_SCHEMA_VERSION) {
            snprintf(st->errmsg, sizeof(st->errmsg),
                     "schema version %d, this ntlmscope reads %d: open it once for writing", v,
                     NS_SCHEMA_VERSION);
            rc = NS_EDB;
        }
    } else if ((rc = exec_file(st, "open.sql")) == NS_OK && (rc = migrate(st)) == NS_OK &&
               (rc = sync_reasons(st)) == NS_OK) {
        if ((rc = prepare_ingest(st)) == NS_OK) {
            rc = attach_checkpoints(st);
        }
    }
    if (rc != NS_OK) {
        snprintf(err, errlen, "%s: %s", path, st->errmsg);
        ns_store_close(st);
        return rc;
    }
    *out = st;
    return NS_OK;
}

int ns_store_open(struct ns_store **out, const char *path, char *err, size_t errlen)
{
    return store_open(out, path, 0, err, errlen);
}

int ns_store_open_readonly(struct ns_store **out, const char *path, char *err, size_t errlen)
{
    return store_open(out, path, 1, err, errlen);
}

void ns_store_set_batch_limit(struct ns_store *st, int events)
{
    st->batch_limit = events;
}

void ns_store_set_rollup_limit(struct ns_store *st, size_t rows)
{
    st->rollup_limit = rows;
}

uint64_t ns_store_commits(const struct ns_store *st)
{
    return st->commits;
}

void ns_store_set_agent(struct ns_store *st, const char *agent)
{
    st->agent = agent;
}

int ns_store_close(struct ns_store *st)
{
    int rc = NS_OK;
    if (!st) {
        return NS_OK;
    }
    if (st->in_batch) {
        rc = ns_store_commit(st);
    }
    ns_ckpt_detach(st);
    sqlite3_finalize(st->insert_event);
    sqlite3_finalize(st->find_dep);
    sqlite3_finalize(st->insert_dep);
    sqlite3_finalize(st->upsert_host);
    sqlite3_finalize(st->upsert_exc);
    sqlite3_finalize(st->upsert_depday);
    sqlite3_finalize(st->insert_depday);
    sqlite3_finalize(st->add_depday);
    sqlite3_finalize(st->range_whole);
    sqlite3_finalize(st->add_deptotal);
    sqlite3_finalize(st->add_daytotal);
    sqlite3_finalize(st->add_dayactive);
    sqlite3_finalize(st->dep_last_days);
    sqlite3_finalize(st->dep_day_seen);
    sqlite3_finalize(st->insert_dep_keyed);
    sqlite3_finalize(st->add_hosttotal);
    sqlite3_finalize(st->str_get);
    sqlite3_finalize(st->str_add);
    for (size_t k = 0; k < NVIEWS; k++) {
        for (int w = 0; w < NS_VIEW_VARIANTS; w++) {
            sqlite3_finalize(st->views[k][w]);
        }
    }
    for (size_t k = 0; k < NS_STMT_COUNT; k++) {
        sqlite3_finalize(st->cached[k]);
    }
    if (st->db && sqlite3_close(st->db) != SQLITE_OK && rc == NS_OK) {
        rc = NS_EDB;
    }
    free(st->dep_ids.slots);
    ns_range_cache_clear(&st->range); /* (the connection, which read it, is closed) */
    agg_free(&st->deps);
    agg_free(&st->hosts);
    agg_free(&st->excs);
    ns_arena_free(&st->keys);
    ns_intern_free(&st->strs);
    ns_buf_free(&st->packed);
    ns_buf_free(&st->slice_blobs);
    free(st->slice);
    free(st->slice_dup);
    ns_buf_free(&st->day_pack);
    free(st);
    return rc;
}

/* ========================================================================================== */
/* Ingest                                                                                      */
/* ========================================================================================== */

/* The rollup name of a machine: an IP address as it is, else the first DNS label in upper
 * case ("fs01.corp.example.com" -> "FS01"), so NetBIOS and DNS spellings meet. */
static const char *short_host(const char *name, char *buf, size_t size)
{
    unsigned char addr[16];
    size_t n = 0;
    if (!name || !*name) {
        return "";
    }
    if (inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1) {
        return name;
    }
    while (name[n] && name[n] != '.' && n + 1 < size) {
        buf[n] = (char)toupper((unsigned char)name[n]);
        n++;
    }
    buf[n] = '\0';
    return n ? buf : name;
}

static int bind_text_or_empty(sqlite3_stmt *s, int col, const char *v)
{
    return sqlite3_bind_text(s, col, v ? v : "", -1, SQLITE_STATIC);
}

/* The last day dep was seen, and with NTLMv1 or LM events (NULL_DAY: never). */
static int last_days(struct ns_store *st, int64_t dep, int64_t *last, int64_t *last_v1)
{
    sqlite3_stmt *q = st->dep_last_days;
    int step;
    sqlite3_bind_int64(q, 1, dep);
    step = sqlite3_step(q);
    *last = *last_v1 = NULL_DAY;
    if (step == SQLITE_ROW) {
        if (sqlite3_column_type(q, 0) != SQLITE_NULL) {
            *last = sqlite3_column_int64(q, 0);
        }
        if (sqlite3_column_type(q, 1) != SQLITE_NULL) {
            *last_v1 = sqlite3_column_int64(q, 1);
        }
    }
    sqlite3_reset(q);
    return step == SQLITE_ROW ? NS_OK : ns_store_fail(st, "reading a dependency");
}

/* Binds key's parts and reason to s (dep_find.sql and dep_insert.sql: the same order). */
static void bind_dep_key(sqlite3_stmt *s, const struct dep_key *key)
{
    for (int p = 0; p < DP_NTLM_VERSION; p++) {
        bind_text_or_empty(s, 1 + p, key->part[p]);
    }
    sqlite3_bind_int64(s, 7, key->reason_id);
    bind_text_or_empty(s, 8, key->part[DP_NTLM_VERSION]);
}

/* Runs s with key bound, and from parameter 9 on the four grouping keys when keys is not
 * NULL (0: NULL); *id = its one answer's first column, or 0 when it answered none (an
 * insert's: the caller reads the new row's id). */
static int dep_key_step(sqlite3_stmt *s, const struct dep_key *key, const int64_t *keys,
                        int64_t *id)
{
    int step;
    *id = 0;
    bind_dep_key(s, key);
    for (int c = 0; keys && c < 4; c++) {
        if (keys[c]) {
            sqlite3_bind_int64(s, 9 + c, keys[c]);
        } else {
            sqlite3_bind_null(s, 9 + c);
        }
    }
    step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        step = sqlite3_step(s);
    }
    sqlite3_reset(s);
    return step == SQLITE_DONE ? NS_OK : NS_EDB;
}

/* Interns name folded to lower case (ASCII, as SQL's lower()), with suffix appended when
 * given; *id = 0 when name is empty and there is no suffix. */
static int intern_folded(struct ns_store *st, const char *name, const char *suffix, int64_t *id)
{
    char buf[1024];
    size_t n = 0;
    *id = 0;
    if (!*name && !suffix) {
        return NS_OK;
    }
    for (const char *p = name; *p && n + 1 < sizeof(buf); p++) {
        buf[n++] = (char)tolower((unsigned char)*p);
    }
    if (suffix) {
        if (n + 1 < sizeof(buf)) {
            buf[n++] = '\x1f';
        }
        for (const char *p = suffix; *p && n + 1 < sizeof(buf); p++) {
            buf[n++] = (char)tolower((unsigned char)*p);
        }
    }
    buf[n] = '\0';
    return ns_intern(st, buf, id);
}

/* The integer keys the grouping views use (schema 10) of a dependency's names. */
static int dep_group_keys(struct ns_store *st, const struct dep_key *key, int64_t *k)
{
    int rc;
    if ((rc = intern_folded(st, key->part[DP_ACCOUNT], key->part[DP_DOMAIN], &k[0])) != NS_OK ||
        (rc = intern_folded(st, key->part[DP_CLIENT], NULL, &k[1])) != NS_OK ||
        (rc = intern_folded(st, key->part[DP_TARGET], NULL, &k[2])) != NS_OK) {
        return rc;
    }
    return intern_folded(st, key->part[DP_PROCESS], NULL, &k[3]);
}

/* Dependencies created in a row after which upsert_dep tries the insert first. */
#define DEP_INSERT_FIRST 8

/* Finds or creates the dependency of key (its parts and reason); sets key->dep_id and
 * *created. A lookup first: the insert of a known one costs as much again. But while the
 * last ones were all new (a first ingest, a new part of the domain), the insert comes first,
 * and the lookup only when it met the row there. The batch writes its addresses with the
 * totals. */
static int upsert_dep(struct ns_store *st, struct dep_key *key, int *created)
{
    sqlite3_stmt *ins = st->insert_dep_keyed ? st->insert_dep_keyed : st->insert_dep;
    int64_t id = 0, k[4];
    int rc;
    *created = 0;
    if (st->new_deps < DEP_INSERT_FIRST && dep_key_step(st->find_dep, key, NULL, &id) != NS_OK) {
        return ns_store_fail(st, "reading dependencies");
    }
    if (!id) {
        /* with its grouping keys, except during an upgrade's copy (before schema 10) */
        if (st->insert_dep_keyed && (rc = dep_group_keys(st, key, k)) != NS_OK) {
            return rc;
        }
        if (dep_key_step(ins, key, st->insert_dep_keyed ? k : NULL, &id) != NS_OK) {
            return ns_store_fail(st, "adding a dependency");
        }
        if (sqlite3_changes(st->db) == 1) {
            *created = (id = sqlite3_last_insert_rowid(st->db)) > 0;
        } else if (dep_key_step(st->find_dep, key, NULL, &id) != NS_OK) {
            return ns_store_fail(st, "reading dependencies");
        }
        if (id <= 0) {
            return ns_store_fail(st, "adding a dependency");
        }
    }
    st->new_deps = *created ? st->new_deps + 1 : 0;
    key->dep_id = id;
    return NS_OK;
}

/* ev's dependency key; its host names are kept in client and target (256 bytes each). */
static void dep_key_of(const struct ns_event *ev, struct dep_key *dk, char *client, char *target)
{
    static const char empty[] = "";
    dk->reason_id = ev->has[NS_F_reason_id] ? ev->i[NS_F_reason_id] : -1;
    dk->dep_id = 0;
    for (int k = 0; k < DP_KEYS; k++) {
        dk->part[k] = ev->s[dep_fields[k]] ? ev->s[dep_fields[k]] : empty;
    }
    dk->part[DP_CLIENT] = short_host(ev->s[NS_F_client_machine], client, 256);
    if (!*dk->part[DP_CLIENT] && ev->s[NS_F_client_ip]) {
        dk->part[DP_CLIENT] = ev->s[NS_F_client_ip];
    }
    dk->part[DP_TARGET] = short_host(ev->s[NS_F_target_machine], target, 256);
    if (!*dk->part[DP_TARGET] && ev->s[NS_F_target_ip]) {
        dk->part[DP_TARGET] = ev->s[NS_F_target_ip];
    }
}

/* The id of ev's dependency and its key's hashes (dg's when given). The id comes from the
 * cache, else from table dep (created on first sight). */
static int dep_resolve(struct ns_store *st, const struct ns_event *ev, const struct ns_digest *dg,
                       int64_t *id, uint64_t *h1, uint64_t *h2)
{
    struct dep_key dk;
    struct dep_slot *e;
    char client[256], target[256];
    int rc;
    if (dg) {
        *h1 = dg->dep_h1;
        *h2 = dg->dep_h2;
    } else {
        dep_key_of(ev, &dk, client, target);
        dep_key_hash(&dk, h1, h2);
    }
    if (!(e = dep_cache_get(&st->dep_ids, *h1, *h2))) {
        int64_t last = NULL_DAY, last_v1 = NULL_DAY;
        int created;
        if (dg) {
            dep_key_of(ev, &dk, client, target);
        }
        /* a known one has its last days; a new one has no days yet (during an upgrade's copy,
         * only the id: the later steps fill in the rest) */
        if ((rc = upsert_dep(st, &dk, &created)) != NS_OK ||
            (!created && st->dep_last_days &&
             (rc = last_days(st, dk.dep_id, &last, &last_v1)) != NS_OK)) {
            return rc;
        }
        if (!(e = dep_cache_put(&st->dep_ids, *h1, *h2, dk.dep_id, last, last_v1))) {
            snprintf(st->errmsg, sizeof(st->errmsg), "aggregating rollups: out of memory");
            return NS_ENOMEM;
        }
    }
    *id = e->id;
    return NS_OK;
}

/* The batch's rollup row of dependency id (key hashes h1, h2) on day, or NULL when out of
 * memory. The addresses start empty (count_event sets them). */
static struct agg *dep_agg(struct ns_store *st, int64_t day, int64_t id, uint64_t h1, uint64_t h2)
{
    static const char empty[] = "";
    struct agg key;
    memset(&key, 0, sizeof(key));
    key.day = day;
    key.dep_id = id;
    key.dep_h1 = h1;
    key.dep_h2 = h2;
    for (int k = 0; k < AGG_PARTS; k++) {
        key.part[k] = empty;
    }
    return agg_find(&st->deps, &key, agg_hash(&key, 0, 0), &st->keys);
}

/* A text's own str.id for ns_intern_folded: -1 for an empty one. */
static int64_t fold_id(const char *s, int64_t id)
{
    return *s ? id : -1;
}

/* The key of ev's exception-list row (targets clients name, servers DCs see), from the
 * str.id of its fields (ids, by enum exc_field; 0: not interned): *has = 0 when it has none.
 * Names compare without case: the keys are the ids of their folded forms. */
static int exc_key(struct ns_store *st, const struct ns_event *ev, const int64_t *ids,
                   struct agg *key, int *has)
{
    const char *role = ev->s[NS_F_role] ? ev->s[NS_F_role] : "";
    int client = !strcmp(role, "client");
    enum exc_field nf = client ? EF_TARGET : EF_SERVER;
    const char *name = client                ? ev->s[NS_F_target_machine]
                       : !strcmp(role, "dc") ? ev->s[NS_F_server_name]
                                             : NULL;
    const char *account = ev->s[NS_F_account] ? ev->s[NS_F_account] : "";
    const char *domain = ev->s[NS_F_account_domain] ? ev->s[NS_F_account_domain] : "";
    enum exc_field cf = ev->s[NS_F_client_machine] ? EF_CLIENT : EF_CLIENT_IP;
    const char *from = ev->s[exc_fields[cf]];
    int rc;
    *has = name != NULL;
    if (!name) {
        return NS_OK;
    }
    memset(key, 0, sizeof(*key));
    key->day = ns_day_of(ev->i[NS_F_time_created]);
    key->key[EXC_SPELLED] = ids[nf];
    if ((rc = ns_intern(st, client ? "remote" : "domain", &key->key[0])) != NS_OK ||
        (rc = ns_intern_folded(st, name, fold_id(name, ids[nf]), NULL, 0, &key->key[1])) != NS_OK ||
        (from && (rc = ns_intern_folded(st, from, fold_id(from, ids[cf]), NULL, 0, &key->key[2])) !=
                     NS_OK) ||
        (rc = ns_intern_folded(st, account, fold_id(account, ids[EF_ACCOUNT]), domain,
                               fold_id(domain, ids[EF_DOMAIN]), &key->key[3])) != NS_OK) {
        return rc;
    }
    if (!key->key[EXC_SPELLED]) { /* (a name the pack kept inline: none is today) */
        rc = ns_intern(st, name, &key->key[EXC_SPELLED]);
    }
    if (!*name) { /* an empty name is its own folded form, as the upgrade keys it */
        key->key[1] = key->key[EXC_SPELLED];
    }
    return rc;
}

/* The key of ev's host row: the computer's str.id and the role. */
static void host_key(const struct ns_event *ev, int64_t computer, struct agg *key)
{
    memset(key, 0, sizeof(*key));
    key->day = ns_day_of(ev->i[NS_F_time_created]);
    key->key[0] = computer;
    key->part[0] = ev->s[NS_F_role] ? ev->s[NS_F_role] : "other";
}

void ns_store_dep_digest(const struct ns_event *ev, uint64_t *h1, uint64_t *h2)
{
    struct dep_key dk;
    char client[256], target[256];
    dep_key_of(ev, &dk, client, target);
    dep_key_hash(&dk, h1, h2);
}

void ns_store_digest(const struct ns_event *ev, struct ns_digest *d)
{
    ns_store_dep_digest(ev, &d->dep_h1, &d->dep_h2);
    for (int f = 0; f < NS_F_COUNT; f++) {
        d->str[f] = ev->s[f] && ns_pack_interned(f) ? ns_intern_hash(ev->s[f]) : 0;
    }
}

/* Counts a newly stored event (e: its place in the slice) into the batch's rollups; row is
 * its dependency's. */
static int count_event(struct ns_store *st, const struct ns_event *ev, const struct slice_event *e,
                       struct agg *row)
{
    struct agg key;
    const char *ver = ev->s[NS_F_ntlm_version];
    int64_t t = ev->i[NS_F_time_created];
    int rc, has;
    /* the addresses are attributes: the latest non-empty one wins */
    for (int k = DP_KEYS; k < DP_COUNT; k++) {
        const char *v = ev->s[dep_fields[k]];
        int p = k == DP_CLIENT_IP ? AGG_CLIENT_IP : AGG_TARGET_IP;
        if (!v || !*v) {
            continue;
        }
        if (strcmp(row->part[p], v) && !(row->part[p] = ns_arena_strdup(&st->keys, v))) {
            goto nomem;
        }
    }
    row->events++;
    row->ntlmv1 += ver && (!strcmp(ver, "NTLMv1") || !strcmp(ver, "LM"));
    row->warnings += ev->has[NS_F_level] && ev->i[NS_F_level] == 3;
    row->blocked += ev->s[NS_F_outcome] && !strcmp(ev->s[NS_F_outcome], "blocked");
    row->first_seen = t < row->first_seen ? t : row->first_seen;
    row->last_seen = t > row->last_seen ? t : row->last_seen;

    if ((rc = exc_key(st, ev, e->ids, &key, &has)) != NS_OK) {
        return rc;
    }
    if (has) {
        if (!(row = agg_find(&st->excs, &key, agg_hash(&key, 4, 0), &st->keys))) {
            goto nomem;
        }
        row->events++;
        row->first_seen = t < row->first_seen ? t : row->first_seen;
        row->last_seen = t > row->last_seen ? t : row->last_seen;
    }

    host_key(ev, e->computer, &key);
    if (!(row = agg_find(&st->hosts, &key, agg_hash(&key, 1, 1), &st->keys))) {
        goto nomem;
    }
    row->events++;
    row->first_seen = t < row->first_seen ? t : row->first_seen;
    row->last_seen = t > row->last_seen ? t : row->last_seen;
    return NS_OK;
nomem:
    snprintf(st->errmsg, sizeof(st->errmsg), "aggregating rollups: out of memory");
    return NS_ENOMEM;
}

/* Opens a batch's transaction. When another connection has written since this one's last
 * batch (a server and an ingest on the same file), the dependencies' cached last days may
 * be behind the table: the cache starts again. */
static int begin_batch(struct ns_store *st)
{
    int64_t version;
    if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        return ns_store_fail(st, "starting a batch");
    }
    if ((version = ns_data_version(st->db)) < 0) {
        ns_store_fail(st, "starting a batch");
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return NS_EDB;
    }
    if (version != st->seen_version) {
        dep_cache_clear(&st->dep_ids);
        st->seen_version = version;
    }
    st->in_batch = 1;
    st->batch_events = 0;
    return NS_OK;
}

/* ns_rows columns of the slice (sql/event_insert.sql): time, computer, channel, record id,
 * dependency, packed fields. */
static void slice_column(void *ctx, size_t k, int col, sqlite3_context *out)
{
    const struct ns_store *st = ctx;
    const struct slice_event *e = &st->slice[k];
    const int64_t v[] = {e->time, e->computer, e->channel, e->record, e->dep};
    if (col < 5) {
        sqlite3_result_int64(out, v[col]);
    } else if (col == 5) {
        sqlite3_result_blob(out, e->len ? st->slice_blobs.data + e->off : "", (int)e->len,
                            SQLITE_STATIC);
    } else {
        sqlite3_result_null(out);
    }
}

/* Readies ev to be stored as the slice's next event: its dependency, its strings' ids and
 * its packed fields. */
static int slice_add(struct ns_store *st, const struct ns_event *ev, const struct ns_digest *dg,
                     const char *agent)
{
    struct slice_event *e = &st->slice[st->nslice];
    int rc;
    if (!ev->s[NS_F_computer] || !ev->s[NS_F_channel] || !ev->has[NS_F_time_created] ||
        !ev->has[NS_F_record_id]) {
        snprintf(st->errmsg, sizeof(st->errmsg),
                 "an event needs its computer, channel, time and record id");
        return NS_EDB;
    }
    if ((rc = dep_resolve(st, ev, dg, &e->dep, &e->h1, &e->h2)) != NS_OK ||
        (rc = dg ? ns_intern_hashed(st, ev->s[NS_F_computer], dg->str[NS_F_computer], &e->computer)
                 : ns_intern(st, ev->s[NS_F_computer], &e->computer)) != NS_OK ||
        (rc = dg ? ns_intern_hashed(st, ev->s[NS_F_channel], dg->str[NS_F_channel], &e->channel)
                 : ns_intern(st, ev->s[NS_F_channel], &e->channel)) != NS_OK ||
        (rc = ns_pack_event(st, ev, dg ? dg->str : NULL, agent, &st->packed)) != NS_OK) {
        return rc;
    }
    for (int k = 0; k < EF_COUNT; k++) {
        e->ids[k] = ns_pack_id(st, exc_fields[k]);
    }
    e->time = ev->i[NS_F_time_created];
    e->record = ev->i[NS_F_record_id];
    e->off = st->slice_blobs.len;
    e->len = st->packed.len;
    if (st->packed.len && ns_buf_add(&st->slice_blobs, st->packed.data, st->packed.len) != NS_OK) {
        snprintf(st->errmsg, sizeof(st->errmsg), "storing events: out of memory");
        return NS_ENOMEM;
    }
    st->nslice++;
    return NS_OK;
}

/* Stores the next events of src, up to a slice of them, inside the open transaction: one
 * statement inserts them all, its conflicts marking the duplicates, then the new ones are
 * counted into the rollups when count (src is read twice: it is put back for the second
 * reading). *n: events read (0 at the end). */
static int store_slice(struct ns_store *st, const struct ns_event_source *src, const char *agent,
                       int count, size_t *n, uint64_t *stored, uint64_t *duplicates)
{
    size_t start = src->tell(src->ctx);
    const struct ns_event *ev;
    struct ns_rows rows;
    int rc = NS_OK;
    *n = 0;
    st->nslice = 0;
    ns_buf_reset(&st->slice_blobs);
    while (st->nslice < STORE_SLICE && st->slice_blobs.len < STORE_SLICE_BYTES &&
           (ev = src->next(src->ctx))) {
        /* a batch is opened for an event to store, not before (count: not an upgrade's
         * copy, which runs inside the upgrade's transaction) */
        if ((count && !st->in_batch && (rc = begin_batch(st)) != NS_OK) ||
            (rc = slice_add(st, ev, src->digest ? src->digest(src->ctx) : NULL, agent)) != NS_OK) {
            return rc;
        }
    }
    if (!(*n = st->nslice)) {
        return NS_OK;
    }
    memset(st->slice_dup, 0, *n);
    memset(&rows, 0, sizeof(rows));
    rows.n = *n;
    rows.ctx = st;
    rows.column = slice_column;
    rows.dup = st->slice_dup;
    if ((rc = ns_rows_write(st, st->insert_event, &rows, "storing events")) != NS_OK) {
        return rc;
    }
    src->seek(src->ctx, start);
    for (size_t k = 0; k < *n && rc == NS_OK; k++) {
        const struct slice_event *e = &st->slice[k];
        struct agg *row;
        if (!(ev = src->next(src->ctx))) {
            snprintf(st->errmsg, sizeof(st->errmsg), "storing events: the events changed");
            return NS_EDB;
        }
        if (st->slice_dup[k]) {
            ++*duplicates;
            continue;
        }
        ++*stored;
        st->batch_events++;
        if (!count) {
            continue;
        }
        if (!(row = dep_agg(st, ns_day_of(e->time), e->dep, e->h1, e->h2))) {
            snprintf(st->errmsg, sizeof(st->errmsg), "aggregating rollups: out of memory");
            return NS_ENOMEM;
        }
        rc = count_event(st, ev, e, row);
    }
    return rc;
}

int ns_store_add_events(struct ns_store *st, const struct ns_event_source *src, uint64_t *stored,
                        uint64_t *duplicates)
{
    int rc = NS_OK;
    if (st->readonly) {
        snprintf(st->errmsg, sizeof(st->errmsg), "the database is open read-only");
        return NS_EDB;
    }
    for (size_t n = 1; n && rc == NS_OK;) {
        rc = store_slice(st, src, st->agent, 1, &n, stored, duplicates);
        if (rc == NS_OK && st->batch_limit > 0 &&
            (st->batch_events >= st->batch_limit ||
             st->deps.used + st->excs.used + st->hosts.used >= st->rollup_limit)) {
            rc = ns_store_commit(st);
        }
    }
    return rc;
}

/* A source of one event. */
struct one_event {
    const struct ns_event *ev;
    size_t at; /* 0: not read yet */
};

static const struct ns_event *one_next(void *ctx)
{
    struct one_event *o = ctx;
    return o->at++ ? NULL : o->ev;
}

static size_t one_tell(void *ctx)
{
    return ((struct one_event *)ctx)->at;
}

static void one_seek(void *ctx, size_t pos)
{
    ((struct one_event *)ctx)->at = pos;
}

/* The source of ev alone, in o. */
static struct ns_event_source one_source(struct one_event *o, const struct ns_event *ev)
{
    struct ns_event_source src;
    o->ev = ev;
    o->at = 0;
    src.ctx = o;
    src.next = one_next;
    src.tell = one_tell;
    src.seek = one_seek;
    src.digest = NULL;
    return src;
}

int ns_store_add(struct ns_store *st, const struct ns_event *ev, int *duplicate)
{
    struct one_event o;
    struct ns_event_source src = one_source(&o, ev);
    uint64_t stored = 0, dups = 0;
    int rc = ns_store_add_events(st, &src, &stored, &dups);
    *duplicate = dups > 0;
    return rc;
}

/* Schema 5 migration: every version-4 event into the compact table, with its dependency
 * (the rollups already count it). */
static int copy_v4_events(struct ns_store *st)
{
    sqlite3_stmt *q = NULL;
    struct ns_event ev;
    uint64_t stored = 0, duplicates = 0; /* (the version-4 table held each event once) */
    int col_field[128], ncol, agent_col = -1, rc, step = SQLITE_DONE;
    if ((rc = prepare_store_event(st)) != NS_OK ||
        (rc = prepare(st, "migrate_005_read_v4.sql", &q)) != NS_OK) {
        return rc;
    }
    ncol = sqlite3_column_count(q);
    if (ncol > 128) {
        ncol = 128;
    }
    for (int c = 0; c < ncol; c++) {
        const char *name = sqlite3_column_name(q, c);
        col_field[c] = ns_field_by_name(name);
        if (!strcmp(name, "agent")) {
            agent_col = c;
        }
    }
    ns_event_init(&ev);
    while (rc == NS_OK && (step = sqlite3_step(q)) == SQLITE_ROW) {
        ns_event_reset(&ev);
        for (int c = 0; c < ncol && rc == NS_OK; c++) {
            int f = col_field[c];
            const char *text = (const char *)sqlite3_column_text(q, c);
            int64_t v;
            if (f < 0 || !text) {
                continue;
            }
            switch (ns_fields[f].kind) {
            case NS_K_TEXT:
                rc = ns_event_set_text(&ev, (enum ns_field)f, text,
                                       (size_t)sqlite3_column_bytes(q, c));
                break;
            case NS_K_HEX:
                if (ns_parse_int(text, &v) == NS_OK) {
                    rc = ns_event_set_int(&ev, (enum ns_field)f, v);
                }
                break;
            default:
                rc = ns_event_set_int(&ev, (enum ns_field)f, sqlite3_column_int64(q, c));
                break;
            }
        }
        if (rc == NS_OK) {
            const char *agent =
                agent_col >= 0 ? (const char *)sqlite3_column_text(q, agent_col) : NULL;
            struct one_event o;
            struct ns_event_source src = one_source(&o, &ev);
            size_t n;
            rc = store_slice(st, &src, agent, 0, &n, &stored, &duplicates);
        } else {
            snprintf(st->errmsg, sizeof(st->errmsg), "copying the events: out of memory");
        }
    }
    if (rc == NS_OK && step != SQLITE_DONE) {
        rc = ns_store_fail(st, "reading the version-4 events");
    }
    ns_event_free(&ev);
    sqlite3_finalize(q);
    return rc;
}

/* A day's counters summed over a batch's dependency rows, and the dependencies that became
 * active on it (burn-down). */
struct day_sum {
    int64_t day, events, ntlmv1, warnings, blocked;
    int64_t active, active_v1;
};

#define DAY_SUMS 64

/* Writes the summed days to day_total and day_active, and empties the list. */
static int day_sums_flush(struct ns_store *st, struct day_sum *days, int *ndays)
{
    for (int k = 0; k < *ndays; k++) {
        sqlite3_stmt *d = st->add_daytotal;
        int step = SQLITE_DONE;
        if (days[k].events) {
            sqlite3_bind_int64(d, 1, days[k].day);
            sqlite3_bind_int64(d, 2, days[k].events);
            sqlite3_bind_int64(d, 3, days[k].ntlmv1);
            sqlite3_bind_int64(d, 4, days[k].warnings);
            sqlite3_bind_int64(d, 5, days[k].blocked);
            step = sqlite3_step(d);
            sqlite3_reset(d);
        }
        if (step == SQLITE_DONE && (days[k].active || days[k].active_v1)) {
            d = st->add_dayactive;
            sqlite3_bind_int64(d, 1, days[k].day);
            sqlite3_bind_int64(d, 2, days[k].active);
            sqlite3_bind_int64(d, 3, days[k].active_v1);
            step = sqlite3_step(d);
            sqlite3_reset(d);
        }
        if (step != SQLITE_DONE) {
            return ns_store_fail(st, "updating day totals");
        }
    }
    *ndays = 0;
    return NS_OK;
}

/* The entry of day in the list, added when missing (the list is written out when full). */
static int day_entry(struct ns_store *st, struct day_sum *days, int *ndays, int64_t day,
                     struct day_sum **out)
{
    int k = 0, rc;
    while (k < *ndays && days[k].day != day) {
        k++;
    }
    if (k == DAY_SUMS) {
        if ((rc = day_sums_flush(st, days, ndays)) != NS_OK) {
            return rc;
        }
        k = 0;
    }
    if (k == *ndays) {
        memset(&days[k], 0, sizeof(days[k]));
        days[k].day = day;
        (*ndays)++;
    }
    *out = &days[k];
    return NS_OK;
}

/* Adds a dependency row's counters to its day in the list. */
static int day_sum(struct ns_store *st, struct day_sum *days, int *ndays, const struct agg *a)
{
    struct day_sum *e;
    int rc = day_entry(st, days, ndays, a->day, &e);
    if (rc == NS_OK) {
        e->events += a->events;
        e->ntlmv1 += a->ntlmv1;
        e->warnings += a->warnings;
        e->blocked += a->blocked;
    }
    return rc;
}

/* Whether dependency dep was seen on day (v1: with NTLMv1 or LM events). */
static int seen_on(struct ns_store *st, int64_t dep, int64_t day, int v1, int *seen)
{
    sqlite3_stmt *q = st->dep_day_seen;
    int step;
    sqlite3_bind_int64(q, 1, day);
    sqlite3_bind_int64(q, 2, dep);
    sqlite3_bind_int(q, 3, v1);
    step = sqlite3_step(q);
    sqlite3_reset(q);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        return ns_store_fail(st, "reading dependency days");
    }
    *seen = step == SQLITE_ROW;
    return NS_OK;
}

/* Burn-down: a dependency is active on day D when seen in D - 6 .. D. It has just been seen
 * on day d for the first time (v1: its first NTLMv1 or LM event of that day): the days of
 * d .. d + 6 not already covered by its nearest days seen before (p) and after (n) gain one.
 * last is its last day seen before this row (NULL_DAY: never): when d is after it, p = last
 * and there is no n; an older day (a file read late) looks at the 6 days on each side. */
static int burndown_add(struct ns_store *st, struct day_sum *days, int *ndays, int64_t dep,
                        int64_t d, int64_t last, int v1)
{
    int64_t lo = d, hi = d + 6;
    int rc, seen = 0;
    if (last == NULL_DAY || last < d) {
        if (last != NULL_DAY && last + 7 > lo) {
            lo = last + 7;
        }
    } else {
        for (int64_t p = d - 1; p >= d - 6 && !seen; p--) {
            if ((rc = seen_on(st, dep, p, v1, &seen)) != NS_OK) {
                return rc;
            }
            if (seen) {
                lo = p + 7;
            }
        }
        seen = 0;
        for (int64_t n = d + 1; n <= d + 6 && !seen; n++) {
            if ((rc = seen_on(st, dep, n, v1, &seen)) != NS_OK) {
                return rc;
            }
            if (seen) {
                hi = n - 1;
            }
        }
    }
    for (int64_t day = lo; day <= hi; day++) {
        struct day_sum *e;
        if ((rc = day_entry(st, days, ndays, day, &e)) != NS_OK) {
            return rc;
        }
        if (v1) {
            e->active_v1++;
        } else {
            e->active++;
        }
    }
    return NS_OK;
}

/* A dependency row's day and id as one number, in either order (dep_first), that sorts as
 * the pair; 0 when they do not fit (an id past 32 bits). */
static int day_dep_key(const struct agg *a, int dep_first, uint64_t *key)
{
    uint64_t day, dep;
    if (a->day < -0x80000000ll || a->day >= 0x80000000ll || a->dep_id < 0 ||
        a->dep_id > 0xffffffffll) {
        return 0;
    }
    day = (uint64_t)(a->day + 0x80000000ll);
    dep = (uint64_t)a->dep_id;
    *key = dep_first ? dep << 32 | day : day << 32 | dep;
    return 1;
}

/* Sorts rows[0..n) of dependency rows by day then id, or by id then day (dep_first), as
 * by_day_dep and by_dep_day do: a radix sort of their keys 8 bits at a time (the bits every
 * key shares are skipped); qsort with cmp when a key does not fit or memory is short. */
static void sort_deps(struct agg **rows, size_t n, int dep_first,
                      int (*cmp)(const void *, const void *))
{
    struct keyed {
        uint64_t key;
        struct agg *a;
    } * mem, *v, *w;
    if (n < 2) {
        return;
    }
    if (!(mem = malloc(2 * n * sizeof(*mem)))) {
        qsort(rows, n, sizeof(*rows), cmp);
        return;
    }
    v = mem;
    w = mem + n;
    for (size_t k = 0; k < n; k++) {
        v[k].a = rows[k];
        if (!day_dep_key(rows[k], dep_first, &v[k].key)) {
            free(mem);
            qsort(rows, n, sizeof(*rows), cmp);
            return;
        }
    }
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[256] = {0}, at = 0;
        struct keyed *t;
        for (size_t k = 0; k < n; k++) {
            count[(v[k].key >> shift) & 0xff]++;
        }
        if (count[(v[0].key >> shift) & 0xff] == n) {
            continue; /* every key has this digit */
        }
        for (int d = 0; d < 256; d++) {
            size_t c = count[d];
            count[d] = at;
            at += c;
        }
        for (size_t k = 0; k < n; k++) {
            w[count[(v[k].key >> shift) & 0xff]++] = v[k];
        }
        t = v;
        v = w;
        w = t;
    }
    for (size_t k = 0; k < n; k++) {
        rows[k] = v[k].a;
    }
    free(mem);
}

/* Orders the batch's dependency rows as dep_daily's key (day, dependency): each statement
 * of the flush lands next to the previous one. */
static int by_day_dep(const void *x, const void *y)
{
    const struct agg *a = *(const struct agg *const *)x, *b = *(const struct agg *const *)y;
    if (a->day != b->day) {
        return a->day < b->day ? -1 : 1;
    }
    return (a->dep_id > b->dep_id) - (a->dep_id < b->dep_id);
}

/* A dependency's additions from the batch to its running totals (dep_total_add.sql). */
struct dep_total {
    int64_t dep, events, ntlmv1, first_seen, last_seen, last_day, last_v1_day;
    const char *client_ip, *target_ip; /* "" keeps the stored one */
};

/* The batch's dependency rows as the flush sorts them out. */
struct dep_flush {
    struct agg **ins; /* rows of days new to their dependency (dep_day_insert.sql) */
    struct agg **upd; /* rows of a dependency's last day stored (dep_day_add.sql) */
    struct agg **tot; /* rows of cached dependencies, their totals written together */
    size_t nins, nupd, ntot;
    struct dep_total *sums; /* tot summed by dependency */
};

/* ns_rows columns of dependency-day rows (dep_day_insert.sql, dep_day_add.sql): day, dep,
 * events, NTLMv1 events, warnings, blocked, first and last seen. */
static void depday_column(void *ctx, size_t k, int col, sqlite3_context *out)
{
    const struct agg *a = ((struct agg *const *)ctx)[k];
    const int64_t v[] = {a->day,      a->dep_id,  a->events,     a->ntlmv1,
                         a->warnings, a->blocked, a->first_seen, a->last_seen};
    if (col < 8) {
        sqlite3_result_int64(out, v[col]);
    } else {
        sqlite3_result_null(out);
    }
}

/* ns_rows columns of running totals (dep_total_add.sql). */
static void deptotal_column(void *ctx, size_t k, int col, sqlite3_context *out)
{
    const struct dep_total *t = &((const struct dep_total *)ctx)[k];
    const int64_t v[] = {t->dep,       t->events,   t->ntlmv1,     t->first_seen,
                         t->last_seen, t->last_day, t->last_v1_day};
    if (col == 7 || col == 8) {
        sqlite3_result_text(out, col == 7 ? t->client_ip : t->target_ip, -1, SQLITE_STATIC);
    } else if (col > 8 || (col == 6 && t->last_v1_day == NULL_DAY)) {
        sqlite3_result_null(out);
    } else {
        sqlite3_result_int64(out, v[col]);
    }
}

/* Runs s (ns_rows over rows[0..n) with the columns column gives); what names the work in the
 * error. */
static int write_rows(struct ns_store *st, sqlite3_stmt *s, void *rows, size_t n,
                      void (*column)(void *, size_t, int, sqlite3_context *), const char *what)
{
    struct ns_rows r;
    memset(&r, 0, sizeof(r));
    r.n = n;
    r.ctx = rows;
    r.column = column;
    return ns_rows_write(st, s, &r, what);
}

/* Adds row a's counters to total t (rows come in day order: the latest address wins). */
static void total_add(struct dep_total *t, const struct agg *a)
{
    t->events += a->events;
    t->ntlmv1 += a->ntlmv1;
    t->first_seen = a->first_seen < t->first_seen ? a->first_seen : t->first_seen;
    t->last_seen = a->last_seen > t->last_seen ? a->last_seen : t->last_seen;
    t->last_day = a->day > t->last_day ? a->day : t->last_day;
    if (a->ntlmv1 > 0 && a->day > t->last_v1_day) {
        t->last_v1_day = a->day;
    }
    if (*a->part[AGG_CLIENT_IP]) {
        t->client_ip = a->part[AGG_CLIENT_IP];
    }
    if (*a->part[AGG_TARGET_IP]) {
        t->target_ip = a->part[AGG_TARGET_IP];
    }
}

/* Writes the running totals of rows[0..n) (one dependency's when n is 1 or they are all
 * its), summed by dependency into sums (room for n). */
static int write_totals(struct ns_store *st, struct agg **rows, size_t n, struct dep_total *sums)
{
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        const struct agg *a = rows[k];
        struct dep_total *t = m ? &sums[m - 1] : NULL;
        if (!t || t->dep != a->dep_id) {
            t = &sums[m++];
            memset(t, 0, sizeof(*t));
            t->dep = a->dep_id;
            t->first_seen = INT64_MAX;
            t->last_seen = INT64_MIN;
            t->last_day = t->last_v1_day = NULL_DAY;
            t->client_ip = t->target_ip = "";
        }
        total_add(t, a);
    }
    return write_rows(st, st->add_deptotal, sums, m, deptotal_column, "updating dependency totals");
}

/* The upsert of a row the cache cannot decide (an older day, or a dependency it has
 * forgotten): *new_day, *new_v1 say whether the row, or its NTLMv1 events, are new. */
static int depday_upsert(struct ns_store *st, const struct agg *a, int *new_day, int *new_v1)
{
    sqlite3_stmt *d = st->upsert_depday;
    int step;
    sqlite3_bind_int64(d, 1, a->day);
    sqlite3_bind_int64(d, 2, a->dep_id);
    sqlite3_bind_int64(d, 3, a->events);
    sqlite3_bind_int64(d, 4, a->ntlmv1);
    sqlite3_bind_int64(d, 5, a->warnings);
    sqlite3_bind_int64(d, 6, a->blocked);
    sqlite3_bind_int64(d, 7, a->first_seen);
    sqlite3_bind_int64(d, 8, a->last_seen);
    step = sqlite3_step(d);
    *new_day = step == SQLITE_ROW && sqlite3_column_int(d, 0);
    *new_v1 = step == SQLITE_ROW && sqlite3_column_int(d, 1);
    if (step == SQLITE_ROW) {
        step = sqlite3_step(d);
    }
    sqlite3_reset(d);
    return step == SQLITE_DONE ? NS_OK : ns_store_fail(st, "updating dependency rollups");
}

/* Sorts out one dependency row of the batch (rows come in dep_daily's key order). When the id
 * cache knows the dependency's last days and the row's day is not before them, whether the
 * row and its first NTLMv1 event of the day are new follows from them: the row joins the
 * INSERT or the UPDATE written for the whole batch, its totals those summed for it. Otherwise
 * the upsert writes it now and says (a dependency the cache has forgotten also gets its
 * totals now: its later rows read its last days back). Then the burn-down and the day's sums. */
static int flush_dep(struct ns_store *st, struct agg *a, struct dep_flush *f, struct day_sum *days,
                     int *ndays)
{
    struct dep_slot *e;
    int rc, new_day = 0, new_v1 = 0;
    int64_t last = NULL_DAY, last_v1 = NULL_DAY;
    /* the cached entry (the id cache follows the last days the totals move) */
    e = dep_cache_get(&st->dep_ids, a->dep_h1, a->dep_h2);
    if (e && e->id != a->dep_id) {
        e = NULL;
    }
    if (e && (e->last_day == NULL_DAY || a->day >= e->last_day) &&
        (!a->ntlmv1 || e->last_v1_day == NULL_DAY || a->day >= e->last_v1_day)) {
        new_day = e->last_day == NULL_DAY || a->day > e->last_day;
        new_v1 = a->ntlmv1 > 0 && (e->last_v1_day == NULL_DAY || a->day > e->last_v1_day);
        if (new_day) {
            f->ins[f->nins++] = a;
        } else {
            f->upd[f->nupd++] = a;
        }
    } else if ((rc = depday_upsert(st, a, &new_day, &new_v1)) != NS_OK) {
        return rc;
    }
    /* the burn-down, before the totals move the dependency's last days */
    if (e) {
        last = e->last_day;
        last_v1 = e->last_v1_day;
    } else if ((new_day || new_v1) && (rc = last_days(st, a->dep_id, &last, &last_v1)) != NS_OK) {
        return rc;
    }
    if ((new_day && (rc = burndown_add(st, days, ndays, a->dep_id, a->day, last, 0)) != NS_OK) ||
        (new_v1 && (rc = burndown_add(st, days, ndays, a->dep_id, a->day, last_v1, 1)) != NS_OK)) {
        return rc;
    }
    /* its running totals */
    if (e) {
        f->tot[f->ntot++] = a;
        e->last_day = a->day > e->last_day ? a->day : e->last_day;
        if (a->ntlmv1 > 0 && a->day > e->last_v1_day) {
            e->last_v1_day = a->day;
        }
    } else if ((rc = write_totals(st, &a, 1, f->sums)) != NS_OK) {
        return rc;
    }
    /* and the day's (summed here: a batch spans few days) */
    return day_sum(st, days, ndays, a);
}

/* Dependency rows by dependency, then day. */
static int by_dep_day(const void *x, const void *y)
{
    const struct agg *a = *(const struct agg *const *)x, *b = *(const struct agg *const *)y;
    if (a->dep_id != b->dep_id) {
        return a->dep_id < b->dep_id ? -1 : 1;
    }
    return (a->day > b->day) - (a->day < b->day);
}

/* Writes the batch's dependency rows (order[0..n), by day and dependency): dep_daily, the
 * burn-down, the running totals and the day's sums. */
static int flush_deps(struct ns_store *st, struct agg **order, size_t n, struct day_sum *days,
                      int *ndays)
{
    struct dep_flush f;
    size_t room = n ? n : 1;
    int rc = NS_OK;
    memset(&f, 0, sizeof(f));
    f.ins = malloc(room * sizeof(*f.ins));
    f.upd = malloc(room * sizeof(*f.upd));
    f.tot = malloc(room * sizeof(*f.tot));
    f.sums = malloc(room * sizeof(*f.sums));
    if (!f.ins || !f.upd || !f.tot || !f.sums) {
        snprintf(st->errmsg, sizeof(st->errmsg), "writing rollups: out of memory");
        rc = NS_ENOMEM;
    }
    for (size_t k = 0; k < n && rc == NS_OK; k++) {
        rc = flush_dep(st, order[k], &f, days, ndays);
    }
    if (rc == NS_OK) {
        rc = write_rows(st, st->insert_depday, f.ins, f.nins, depday_column,
                        "storing dependency rollups");
    }
    if (rc == NS_OK) {
        rc = write_rows(st, st->add_depday, f.upd, f.nupd, depday_column,
                        "updating dependency rollups");
    }
    if (rc == NS_OK) {
        sort_deps(f.tot, f.ntot, 1, by_dep_day);
        rc = write_totals(st, f.tot, f.ntot, f.sums);
    }
    free(f.ins);
    free(f.upd);
    free(f.tot);
    free(f.sums);
    return rc;
}

/* The rows of a batch's table that count events, unsorted (NULL when out of memory; *n
 * rows). */
static struct agg **agg_rows(const struct agg_table *t, size_t *n)
{
    struct agg **order = malloc((t->used ? t->used : 1) * sizeof(*order));
    *n = 0;
    if (!order) {
        return NULL;
    }
    for (size_t k = 0; k < t->used; k++) {
        if (t->rows[k].events) { /* (a dependency's: else only duplicates) */
            order[(*n)++] = &t->rows[k];
        }
    }
    return order;
}

/* Compares two integers for qsort. */
static int cmp_int(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

/* Exception-list rows as exc_daily's key: day, kind, name, client, account (ids). */
static int by_exc_key(const void *x, const void *y)
{
    const struct agg *a = *(const struct agg *const *)x, *b = *(const struct agg *const *)y;
    int c = cmp_int(a->day, b->day);
    for (int k = 0; k < 4 && !c; k++) {
        c = cmp_int(a->key[k], b->key[k]);
    }
    return c;
}

/* Host rows by computer and role (host_total's key), then day. */
static int by_host(const void *x, const void *y)
{
    const struct agg *a = *(const struct agg *const *)x, *b = *(const struct agg *const *)y;
    int c = cmp_int(a->key[0], b->key[0]);
    if (!c) {
        c = strcmp(a->part[0], b->part[0]);
    }
    return c ? c : cmp_int(a->day, b->day);
}

/* Host rows as host_daily's key: day, computer, role. */
static int by_day_host(const void *x, const void *y)
{
    const struct agg *a = *(const struct agg *const *)x, *b = *(const struct agg *const *)y;
    int c = cmp_int(a->day, b->day);
    return c ? c : by_host(x, y);
}

/* Exception-list rows (sql/exc_upsert.sql): day, kind, name, client, account, events, first
 * and last seen, the name as written. */
static void exc_column(void *ctx, size_t k, int col, sqlite3_context *out)
{
    const struct agg *a = ((struct agg *const *)ctx)[k];
    const int64_t v[] = {a->day,    a->key[0],     a->key[1],    a->key[2],          a->key[3],
                         a->events, a->first_seen, a->last_seen, a->key[EXC_SPELLED]};
    if (col < 9) {
        sqlite3_result_int64(out, v[col]);
    } else {
        sqlite3_result_null(out);
    }
}

/* Host rows (sql/host_upsert.sql, host_total_add.sql): day, computer, role, events, first
 * and last seen. */
static void host_column(void *ctx, size_t k, int col, sqlite3_context *out)
{
    const struct agg *a = ((struct agg *const *)ctx)[k];
    const int64_t v[] = {a->day, a->key[0], 0, a->events, a->first_seen, a->last_seen};
    if (col == 2) {
        sqlite3_result_text(out, a->part[0], -1, SQLITE_STATIC);
    } else if (col < 6) {
        sqlite3_result_int64(out, v[col]);
    } else {
        sqlite3_result_null(out);
    }
}

/* Writes the rows of table t in the order of cmp with statement s, whose columns are those
 * of column. */
static int flush_table(struct ns_store *st, const struct agg_table *t,
                       int (*cmp)(const void *, const void *),
                       void (*column)(void *, size_t, int, sqlite3_context *), sqlite3_stmt *s,
                       const char *what, struct agg ***order, size_t *n)
{
    if (!(*order = agg_rows(t, n))) {
        snprintf(st->errmsg, sizeof(st->errmsg), "writing rollups: out of memory");
        return NS_ENOMEM;
    }
    qsort(*order, *n, sizeof(**order), cmp);
    return write_rows(st, s, *order, *n, column, what);
}

/* Adds the batch's host rows (order[0..n), by host and role) to the hosts' running totals:
 * one row per host and role, whatever the days the batch spans. */
static int flush_host_totals(struct ns_store *st, struct agg *const *order, size_t n)
{
    struct agg *sums = malloc((n ? n : 1) * sizeof(*sums));
    struct agg **ptrs = malloc((n ? n : 1) * sizeof(*ptrs));
    size_t m = 0;
    int rc;
    if (!sums || !ptrs) {
        free(sums);
        free(ptrs);
        snprintf(st->errmsg, sizeof(st->errmsg), "writing rollups: out of memory");
        return NS_ENOMEM;
    }
    for (size_t k = 0; k < n; k++) {
        const struct agg *a = order[k];
        struct agg *e = m ? &sums[m - 1] : NULL;
        if (!e || e->key[0] != a->key[0] || strcmp(e->part[0], a->part[0])) {
            e = &sums[m];
            ptrs[m++] = e;
            *e = *a;
            continue;
        }
        e->events += a->events;
        e->first_seen = a->first_seen < e->first_seen ? a->first_seen : e->first_seen;
        e->last_seen = a->last_seen > e->last_seen ? a->last_seen : e->last_seen;
    }
    rc = write_rows(st, st->add_hosttotal, ptrs, m, host_column, "updating host totals");
    free(sums);
    free(ptrs);
    return rc;
}

/* Writes the batch's day sums, exception-list and host rows, each table in its key order
 * and with one statement. */
static int flush_rest(struct ns_store *st, struct day_sum *days, int *ndays)
{
    struct agg **order = NULL;
    size_t n;
    int rc;
    if ((rc = day_sums_flush(st, days, ndays)) != NS_OK) {
        return rc;
    }
    rc = flush_table(st, &st->excs, by_exc_key, exc_column, st->upsert_exc,
                     "updating exception-list rollups", &order, &n);
    free(order);
    if (rc != NS_OK) {
        return rc;
    }
    rc = flush_table(st, &st->hosts, by_day_host, host_column, st->upsert_host,
                     "updating host rollups", &order, &n);
    if (rc == NS_OK) {
        qsort(order, n, sizeof(*order), by_host);
        rc = flush_host_totals(st, order, n);
    }
    free(order);
    return rc;
}

/* Adds the batch's dependency rows (order[0..n), by day and dependency) to the day packs,
 * one day at a time. */
static int pack_days(struct ns_store *st, struct agg *const *order, size_t n)
{
    struct ns_pack_row *rows = malloc((n ? n : 1) * sizeof(*rows));
    int rc = NS_OK;
    if (!rows) {
        snprintf(st->errmsg, sizeof(st->errmsg), "packing days: out of memory");
        return NS_ENOMEM;
    }
    for (size_t k = 0, run; k < n && rc == NS_OK; k += run) {
        for (run = 0; k + run < n && order[k + run]->day == order[k]->day; run++) {
            const struct agg *a = order[k + run];
            rows[run].dep = a->dep_id;
            rows[run].events = a->events;
            rows[run].ntlmv1 = a->ntlmv1;
            rows[run].first_seen = a->first_seen;
            rows[run].last_seen = a->last_seen;
        }
        rc = ns_range_pack_add(st, order[k]->day, rows, run);
    }
    free(rows);
    return rc;
}

static int flush_rollups(struct ns_store *st)
{
    struct day_sum days[DAY_SUMS];
    struct agg **order;
    size_t n;
    int ndays = 0, rc = NS_OK;
    if (!(order = agg_rows(&st->deps, &n))) {
        snprintf(st->errmsg, sizeof(st->errmsg), "writing rollups: out of memory");
        return NS_ENOMEM;
    }
    sort_deps(order, n, 0, by_day_dep);
    rc = flush_deps(st, order, n, days, &ndays);
    /* and the packs of the days the batch touched (ranges read them: range.c) */
    if (rc == NS_OK) {
        rc = pack_days(st, order, n);
    }
    free(order);
    if (rc != NS_OK) {
        return rc;
    }
    return flush_rest(st, days, &ndays);
}

static void batch_clear(struct ns_store *st)
{
    agg_clear(&st->deps);
    agg_clear(&st->hosts);
    agg_clear(&st->excs);
    ns_arena_reset(&st->keys);
    st->in_batch = 0;
    st->batch_events = 0;
}

int ns_store_commit(struct ns_store *st)
{
    int rc;
    if (!st->in_batch) {
        return NS_OK;
    }
    rc = flush_rollups(st);
    if (rc == NS_OK && sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = ns_store_fail(st, "committing a batch");
    }
    st->commits += rc == NS_OK;
    if (rc != NS_OK) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        ns_intern_clear(&st->strs); /* strings and dependencies added by the batch are gone */
        dep_cache_clear(&st->dep_ids);
    }
    batch_clear(st);
    return rc;
}

void ns_store_rollback(struct ns_store *st)
{
    if (st->in_batch) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        ns_intern_clear(&st->strs); /* strings and dependencies added by the batch are gone */
        dep_cache_clear(&st->dep_ids);
    }
    batch_clear(st);
}

/* ========================================================================================== */
/* Views                                                                                       */
/* ========================================================================================== */

const char *const ns_filter_names[NS_Q_COUNT] = {"client",    "account", "domain",
                                                 "process",   "target",  "service",
                                                 "reason_id", "version", "computer"};

void ns_view_params_init(struct ns_view_params *p)
{
    memset(p, 0, sizeof(*p));
    p->since_day = -1000000;
    p->until_day = 1000000;
    p->limit = -1;
}

int64_t ns_store_last_total(const struct ns_store *st)
{
    return st->last_total;
}

const char *const *ns_store_views(void)
{
    return view_names;
}

static int view_index(const char *name)
{
    for (size_t k = 0; k < NVIEWS; k++) {
        if (!strcmp(views[k].name, name)) {
            return (int)k;
        }
    }
    return -1;
}

int ns_store_view_exists(const char *name)
{
    return view_index(name) >= 0;
}

/* Cell type of a view column, by name. */
static enum ns_cell_type column_kind(const char *name)
{
    if (!strcmp(name, "first_seen") || !strcmp(name, "last_seen") ||
        !strcmp(name, "time_created")) {
        return NS_CELL_TIME;
    }
    if (!strcmp(name, "day")) {
        return NS_CELL_DAY;
    }
    return NS_CELL_INT;
}

static void bind_named(sqlite3_stmt *s, const char *name, int64_t v)
{
    int idx = sqlite3_bind_parameter_index(s, name);
    if (idx > 0) {
        sqlite3_bind_int64(s, idx, v);
    }
}

/* Binds text (SQLITE_TRANSIENT: copied) or NULL to a named parameter the view may have. */
static void bind_named_text(sqlite3_stmt *s, const char *name, const char *v)
{
    int idx = sqlite3_bind_parameter_index(s, name);
    if (idx > 0) {
        if (v) {
            sqlite3_bind_text(s, idx, v, -1, SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_null(s, idx);
        }
    }
}

/* "%text%" with LIKE's own characters escaped by '\'. Returns NS_OK or NS_ETOOBIG. */
static int like_pattern(const char *q, char *out, size_t n)
{
    size_t o = 0;
    if (n < 3) {
        return NS_ETOOBIG;
    }
    out[o++] = '%';
    for (; *q; q++) {
        if (o + 3 >= n) {
            return NS_ETOOBIG;
        }
        if (*q == '%' || *q == '_' || *q == '\\') {
            out[o++] = '\\';
        }
        out[o++] = *q;
    }
    out[o++] = '%';
    out[o] = '\0';
    return NS_OK;
}

/* Prepares a view (or its variant for dependency filters): its file, after the file it
 * continues and before the file that ends it (if any). */
/* Whether view vi is over a range of dependencies (dep_range_part.sql or _whole.sql, then
 * dep_range_x.sql and dep_range_all.sql or _search.sql, before its own file). */
static int view_ranged(int vi)
{
    return views[vi].prefix && !strcmp(views[vi].prefix, "dep_range_part.sql");
}

/* A view's statements: as written, with its dependency filter file, or over every day. */
/* A view's statements: over part of the stored days, with a dependency filter (dep_file),
 * over every stored day, and the two ranges again searching the dependencies (search). */
enum view_variant { VIEW_PLAIN, VIEW_DEP_FILTER, VIEW_WHOLE_RANGE, VIEW_SEARCH, VIEW_SEARCH_WHOLE };
_Static_assert(VIEW_SEARCH_WHOLE + 1 == NS_VIEW_VARIANTS, "a statement for each variant");

static int prepare_view(struct ns_store *st, int vi, enum view_variant variant)
{
    const char *file = variant == VIEW_DEP_FILTER ? views[vi].dep_file : views[vi].file;
    const char *body = ns_sql_text(file), *head = "", *tail = "";
    const char *prefix = variant == VIEW_WHOLE_RANGE || variant == VIEW_SEARCH_WHOLE
                             ? "dep_range_whole.sql"
                             : views[vi].prefix;
    const char *pick = variant == VIEW_SEARCH || variant == VIEW_SEARCH_WHOLE
                           ? ns_sql_text("dep_range_search.sql")
                           : ns_sql_text("dep_range_all.sql");
    sqlite3_stmt **out = &st->views[vi][variant];
    struct ns_buf text;
    int rc = NS_OK, ranged = view_ranged(vi);
    if ((prefix && !(head = ns_sql_text(prefix))) ||
        (ranged && (!ns_sql_text("dep_range_x.sql") || !pick)) ||
        (views[vi].suffix && !(tail = ns_sql_text(views[vi].suffix)))) {
        body = NULL;
    }
    if (!body) {
        snprintf(st->errmsg, sizeof(st->errmsg), "sql/%s is not compiled in", file);
        return NS_EDB;
    }
    ns_buf_init(&text, 1u << 20);
    if (ns_buf_adds(&text, head) != NS_OK ||
        (ranged && (ns_buf_adds(&text, ns_sql_text("dep_range_x.sql")) != NS_OK ||
                    ns_buf_adds(&text, pick) != NS_OK)) ||
        ns_buf_adds(&text, body) != NS_OK || ns_buf_adds(&text, tail) != NS_OK) {
        rc = NS_ENOMEM;
    } else if (sqlite3_prepare_v3(st->db, text.data, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) !=
               SQLITE_OK) {
        rc = ns_store_fail(st, file);
    }
    ns_buf_free(&text);
    return rc;
}

/* Whether the days since .. until hold every stored day (sql/range_whole.sql). */
static int range_is_whole(struct ns_store *st, const struct ns_view_params *p, int *whole)
{
    sqlite3_stmt *q;
    int step;
    if (!st->range_whole && prepare(st, "range_whole.sql", &st->range_whole) != NS_OK) {
        return NS_EDB;
    }
    q = st->range_whole;
    bind_named(q, ":since", p->since_day);
    bind_named(q, ":until", p->until_day);
    step = sqlite3_step(q);
    *whole = step == SQLITE_ROW && sqlite3_column_int(q, 0) == 1;
    sqlite3_reset(q);
    return step == SQLITE_ROW ? NS_OK : ns_store_fail(st, "reading the stored days");
}

#define VIEW_MAX_COLS 80

int ns_store_view(struct ns_store *st, const char *name, const struct ns_view_params *p,
                  ns_row_fn fn, void *ctx)
{
    int vi = view_index(name), rc = NS_OK, step, ncol, rows = 0, alt = 0, own_txn = 0, whole = 0;
    enum view_variant variant = VIEW_PLAIN;
    sqlite3_stmt *s;
    const char *names[VIEW_MAX_COLS];
    char namebuf[VIEW_MAX_COLS][64];
    struct ns_cell cells[VIEW_MAX_COLS];
    enum ns_cell_type kinds[VIEW_MAX_COLS];
    int srccol[VIEW_MAX_COLS], total_col = -1;
    const int64_t day_us = (int64_t)86400 * 1000000;
    if (vi < 0) {
        snprintf(st->errmsg, sizeof(st->errmsg), "no view named \"%s\"", name);
        return NS_ENOTFOUND;
    }
    if (views[vi].dep_file) {
        /* a dependency filter: client ... version, every filter but the computer */
        for (int f = 0; f < NS_Q_COUNT; f++) {
            alt |= f != NS_Q_COMPUTER && p->filter[f] != NULL;
        }
    }
    if (alt) {
        variant = VIEW_DEP_FILTER;
    } else if (view_ranged(vi) || views[vi].grouped) {
        /* every day or part of them: decided and read in one transaction (a writer adding a
         * day in between would otherwise count it) */
        if (sqlite3_get_autocommit(st->db)) {
            if (sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
                return ns_store_fail(st, "starting a read");
            }
            own_txn = 1;
        }
        if ((rc = range_is_whole(st, p, &whole)) != NS_OK) {
            goto done;
        }
        variant = whole && !views[vi].grouped ? VIEW_WHOLE_RANGE : VIEW_PLAIN;
        if (views[vi].search && p->q && *p->q) {
            variant = whole ? VIEW_SEARCH_WHOLE : VIEW_SEARCH;
        }
    }
    if (!st->views[vi][variant] && (rc = prepare_view(st, vi, variant)) != NS_OK) {
        goto done;
    }
    s = st->views[vi][variant];
    bind_named(s, ":since", p->since_day);
    bind_named(s, ":until", p->until_day);
    bind_named(s, ":since_us", p->since_day * day_us);
    bind_named(s, ":until_us", (p->until_day + 1) * day_us);
    bind_named(s, ":whole", whole);
    bind_named(s, ":limit", p->limit);
    bind_named(s, ":offset", p->offset > 0 ? p->offset : 0);
    bind_named(s, ":v1_only", views[vi].v1_only);
    bind_named_text(s, ":kind", views[vi].kind);
    bind_named(s, ":desc", p->desc ? 1 : 0);
    bind_named_text(s, ":sort", p->sort);
    for (int f = 0; f < NS_Q_COUNT; f++) {
        char param[32];
        snprintf(param, sizeof(param), ":%s", ns_filter_names[f]);
        bind_named_text(s, param, p->filter[f]);
    }
    if (p->q && *p->q) {
        char pattern[512];
        if (like_pattern(p->q, pattern, sizeof(pattern)) != NS_OK) {
            snprintf(st->errmsg, sizeof(st->errmsg), "search text too long");
            sqlite3_reset(s);
            rc = NS_EINVAL;
            goto done;
        }
        bind_named_text(s, ":q", pattern);
    } else {
        bind_named_text(s, ":q", NULL);
    }
    st->last_total = -1;
    /* columns whose name starts with '_' are for the store (_total), never shown */
    /* the names are copied: a statement whose plan follows a bound value (a LIKE pattern) is
     * prepared again by its first step, which frees the names it gave before */
    ncol = 0;
    for (int c = 0; c < sqlite3_column_count(s) && ncol < VIEW_MAX_COLS; c++) {
        const char *cname = sqlite3_column_name(s, c);
        if (!cname || strlen(cname) >= sizeof(namebuf[0])) {
            rc = ns_store_fail(st, name);
            sqlite3_reset(s);
            goto done;
        }
        if (!strcmp(cname, "_total")) {
            total_col = c;
        }
        if (cname[0] == '_') {
            continue;
        }
        memcpy(namebuf[ncol], cname, strlen(cname) + 1);
        names[ncol] = namebuf[ncol];
        kinds[ncol] = column_kind(cname);
        srccol[ncol++] = c;
    }
    if (total_col >= 0) {
        st->last_total = 0;
    }
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        if (total_col >= 0 && rows == 0) {
            st->last_total = sqlite3_column_int64(s, total_col);
        }
        for (int c = 0; c < ncol; c++) {
            int t = sqlite3_column_type(s, srccol[c]);
            cells[c].s = NULL;
            cells[c].i = 0;
            if (t == SQLITE_NULL) {
                cells[c].type = NS_CELL_NULL;
            } else if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
                cells[c].type = kinds[c];
                cells[c].i = sqlite3_column_int64(s, srccol[c]);
            } else {
                cells[c].type = NS_CELL_TEXT;
                cells[c].s = (const char *)sqlite3_column_text(s, srccol[c]);
                if (!cells[c].s) {
                    cells[c].type = NS_CELL_NULL;
                }
            }
        }
        rows++;
        if ((rc = fn(ctx, ncol, names, cells)) != NS_OK) {
            break;
        }
    }
    if (rc == NS_OK && step != SQLITE_DONE) {
        rc = ns_store_fail(st, name);
    }
    if (rc == NS_OK && rows == 0) {
        rc = fn(ctx, ncol, names, NULL);
    }
    sqlite3_reset(s);
done:
    if (own_txn) {
        sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL); /* a read: nothing to lose */
    }
    return rc;
}
