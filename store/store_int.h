/*
 * store_int.h - the store's private parts, shared by the files of store/.
 */
#ifndef NS_STORE_INT_H
#define NS_STORE_INT_H

#include <sqlite3.h>

#include "ns_store.h"

#define NVIEWS 20
#define NS_VIEW_VARIANTS 5 /* statements of a view (store.c: enum view_variant) */

/* Statements prepared on first use (index into ns_store.cached). */
enum ns_stmt {
    NS_STMT_TOKEN_ADD,
    NS_STMT_TOKEN_LIST,
    NS_STMT_TOKEN_REVOKE,
    NS_STMT_TOKEN_VALID,
    NS_STMT_AGENT_SEEN,
    NS_STMT_AGENT_LIST,
    NS_STMT_SUMMARY_GET,
    NS_STMT_SUMMARY_ADD,
    NS_STMT_DAY_ROWS,
    NS_STMT_PACK_PUT,
    NS_STMT_PACK_DROP,
    NS_STMT_DAYS,
    NS_STMT_PACK_PARTS,
    NS_STMT_COUNT
};

/* Events inserted by one statement (store.c: store_slice): this many, or until their packed
 * fields hold this many bytes. */
#define STORE_SLICE 1024
#define STORE_SLICE_BYTES ((size_t)4 << 20)
struct slice_event;

/* The strings already interned (str.id by text), so most lookups never reach SQLite. */
struct intern_slot;
struct fold_slot;
struct ns_intern {
    struct intern_slot *slots; /* capacity entries */
    size_t cap;                /* power of two */
    size_t used;               /* entries in use */
    struct ns_arena text;      /* the strings */
    /* the folded forms (ns_intern_folded): str.id of a text's lower case, by the str.id of
     * the text, or of two texts joined by char(31) */
    struct fold_slot *folds;
    size_t fold_cap, fold_used;
};

/* One aggregated rollup row; see store.c. */
struct agg;
/* A batch's rollup rows, kept dense in insertion order, and an open-addressing index of them
 * (a row's index + 1 in the low 32 bits of a slot, the top of its hash in the high ones): a
 * slot costs 8 bytes where a row costs 144, so the rows take what is used and the index the
 * room to spare. */
struct agg_table {
    struct agg *rows; /* the rows */
    size_t room;      /* rows allocated */
    size_t used;      /* rows in use */
    uint64_t *slots;  /* the index: cap entries, 0 = empty */
    size_t cap;       /* power of two */
    int nkeys;        /* leading parts that form the key */
    int nparts;       /* parts stored */
};

/* Dependency ids already known, by two independent 64-bit hashes of the dependency's key
 * (store.c), kept across batches so a known dependency costs no SQL. */
struct dep_slot;
struct dep_cache {
    struct dep_slot *slots; /* capacity entries */
    size_t cap;             /* power of two */
    size_t used;            /* entries in use */
};

/* One dependency's counters summed over a range of days. */
struct ns_range_row {
    int64_t dep;                             /* dep.id (0: an empty slot while summing) */
    int64_t events, ntlmv1;                  /* events and NTLMv1 events */
    int64_t first_seen, last_seen, last_day; /* first and last times (us), last day */
};
/* A connection's last range of days summed, shared by ns_dep_range and ns_dep_group (a view
 * reads its range more than once: its rows and their count). */
struct ns_range_cache {
    struct ns_range_row *rows; /* the sums, in ascending dependency id */
    size_t n;                  /* their rows */
    int64_t since, until;      /* the days summed */
    int64_t version, changes;  /* data_version and the connection's changes then */
    int valid;                 /* rows are those of since .. until now */
};

struct ns_store {
    sqlite3 *db;                                   /* the connection */
    sqlite3_stmt *insert_event;                    /* sql/event_insert.sql */
    sqlite3_stmt *find_dep;                        /* sql/dep_find.sql */
    sqlite3_stmt *insert_dep;                      /* sql/dep_insert.sql */
    sqlite3_stmt *upsert_host;                     /* sql/host_upsert.sql */
    sqlite3_stmt *upsert_exc;                      /* sql/exc_upsert.sql */
    sqlite3_stmt *upsert_depday;                   /* sql/dep_day_upsert.sql */
    sqlite3_stmt *insert_depday;                   /* sql/dep_day_insert.sql */
    sqlite3_stmt *add_depday;                      /* sql/dep_day_add.sql */
    sqlite3_stmt *add_deptotal;                    /* sql/dep_total_add.sql */
    sqlite3_stmt *add_daytotal;                    /* sql/day_total_add.sql */
    sqlite3_stmt *add_dayactive;                   /* sql/day_active_add.sql */
    sqlite3_stmt *dep_last_days;                   /* sql/dep_last_days.sql */
    sqlite3_stmt *dep_day_seen;                    /* sql/dep_day_seen.sql */
    sqlite3_stmt *insert_dep_keyed;                /* sql/dep_insert_keyed.sql */
    sqlite3_stmt *add_hosttotal;                   /* sql/host_total_add.sql */
    sqlite3_stmt *str_get;                         /* sql/str_get.sql */
    sqlite3_stmt *str_add;                         /* sql/str_add.sql */
    sqlite3_stmt *views[NVIEWS][NS_VIEW_VARIANTS]; /* sql/view_*.sql, prepared on first use
                                                      (store.c: enum view_variant) */
    sqlite3_stmt *range_whole;                     /* sql/range_whole.sql */
    sqlite3_stmt *cached[NS_STMT_COUNT];           /* other statements, prepared on first use */
    const char *agent;                             /* agent of the events being added, or NULL */
    int batch_limit;              /* events per automatic commit; 0: only ns_store_commit */
    size_t rollup_limit;          /* rollup rows that end an automatic batch early */
    uint64_t commits;             /* transactions committed */
    int readonly;                 /* opened with ns_store_open_readonly */
    int64_t last_total;           /* rows the last view matched before limit/offset, or -1 */
    int in_batch;                 /* a transaction is open */
    int batch_events;             /* events added to the open batch */
    struct dep_cache dep_ids;     /* dependency ids by key */
    int new_deps;                 /* dependencies created in a row by upsert_dep */
    int64_t seen_version;         /* data_version when the cache was last valid */
    struct ns_range_cache range;  /* the connection's last range summed (range.c) */
    struct agg_table deps;        /* dependency rollups of the batch, by id and day */
    struct agg_table hosts;       /* host rollups of the batch */
    struct agg_table excs;        /* exception-list rollups of the batch */
    struct ns_arena keys;         /* key text of both tables */
    struct ns_intern strs;        /* interned strings (pack.c) */
    struct ns_buf packed;         /* the packed fields of the event being stored */
    int64_t pack_ids[NS_F_COUNT]; /* their str.id (ns_pack_id) */
    struct slice_event *slice;    /* the events being stored (STORE_SLICE) */
    unsigned char *slice_dup;     /* 1: that event was already stored */
    size_t nslice;                /* events in slice */
    struct ns_buf slice_blobs;    /* their packed fields */
    struct ns_buf day_pack;       /* a day's pack being written (range.c) */
    struct ns_ckpt *ckpt;         /* checkpoints beside the writer (checkpoint.c) */
    char errmsg[256];             /* last error */
};

/* Returns the cached statement for which, preparing it on first use. NULL on error
 * (st->errmsg says why). */
sqlite3_stmt *ns_store_stmt(struct ns_store *st, enum ns_stmt which);
/* Records an SQLite failure in st->errmsg and returns NS_EDB. */
int ns_store_fail(struct ns_store *st, const char *what);

/* The text of sql/<name>, or NULL. */
const char *ns_sql_text(const char *name);

/* rows.c: rows held in memory, read by SQL as ns_rows(src) with columns c0 .. c9. */
#define NS_ROWS_COLS 10
struct ns_rows {
    size_t n;  /* rows */
    void *ctx; /* the caller's */
    /* sets out to column col (0 .. NS_ROWS_COLS - 1) of row k (a text must stay until the
     * statement ends) */
    void (*column)(void *ctx, size_t k, int col, sqlite3_context *out);
    /* NULL, or n flags: SQL's ns_rows_dup(src) sets the flag of the row being written (an
     * INSERT ... SELECT writes each row before it reads the next) */
    unsigned char *dup;
    size_t base, end; /* the rows [base, end) the statement being run reads (ns_rows_write) */
    size_t cur;       /* the row being read */
};
/* Rows one statement reads at the most (ns_rows_write runs it again for the next ones). */
#define NS_ROWS_WINDOW 2048
/* rows.c: registers ns_rows(src) and ns_rows_dup(src) on a connection. */
int ns_rows_register(sqlite3 *db);
/* rows.c: runs s, whose parameter 1 is ns_rows' src, over rows, NS_ROWS_WINDOW of them at a
 * time (nothing when there are none); what names the work in the error. */
int ns_rows_write(struct ns_store *st, sqlite3_stmt *s, struct ns_rows *rows, const char *what);

/* checkpoint.c: WAL checkpoints on a thread of their own for the writer st, in place of
 * SQLite's automatic ones: a pass starts when the WAL holds start frames after a commit; the
 * writer copies back itself the last frames when at most gap are left, and waits for the
 * thread when the WAL reaches limit frames. Attaching again sets the thresholds. */
struct ns_ckpt;
int ns_ckpt_attach(struct ns_store *st, int start, int gap, int limit);
/* Stops the thread (the writer's close then checkpoints what is left, as before). */
void ns_ckpt_detach(struct ns_store *st);

/* range.c: sets c->rows and c->n to the sums of the days since .. until, summed again unless
 * c holds them and the database has not changed since. They stay until the next call.
 * Returns SQLITE_OK or an SQLite error (c then holds nothing). */
int ns_range_cached(sqlite3 *db, struct ns_range_cache *c, int64_t since, int64_t until);
/* range.c: frees what c holds (not c). */
void ns_range_cache_clear(struct ns_range_cache *c);
/* range.c: registers the table-valued function ns_dep_range(since, until) on a connection,
 * reading through cache (the connection's, which outlives it). */
int ns_range_register(sqlite3 *db, struct ns_range_cache *cache);
/* range.c: each dependency's counters summed over the days since .. until (their packs, else
 * their rows of dep_daily), in ascending dependency id. Returns SQLITE_OK and sets *rows
 * (the caller frees it with free(); not NULL even when *n is 0) and *n, or an SQLite error. */
int ns_range_sums(sqlite3 *db, int64_t since, int64_t until, struct ns_range_row **rows, size_t *n);
/* group.c: registers the table-valued function ns_dep_group(...) on a connection, reading
 * ranges through cache (as ns_range_register). */
int ns_group_register(sqlite3 *db, struct ns_range_cache *cache);
/* range.c: the database's data_version (moves when another connection commits), or -1. */
int64_t ns_data_version(sqlite3 *db);
/* A commit's addition to one dependency on one day, for the day packs. */
struct ns_pack_row {
    int64_t dep, events, ntlmv1, first_seen, last_seen;
};
/* range.c: keeps day's packs (schema 12) equal to its rows of dep_daily after a commit added
 * rows[0..n) (ascending dep) to them, inside the open transaction: appends them as a part,
 * or packs the day whole again (a day without packs, with many parts, or whose parts would
 * outgrow its whole pack). A day too large to pack loses its packs (ranges then read its
 * rows). */
int ns_range_pack_add(struct ns_store *st, int64_t day, const struct ns_pack_row *rows, size_t n);
/* range.c: packs every day of dep_daily (the schema-12 upgrade). */
int ns_range_pack_all(struct ns_store *st);

/* pack.c: varints (7 bits a byte, low first) and zigzag signed numbers, shared by the packed
 * events and the day packs (range.c). ns_get_varint (inline: the day packs' sums call it for
 * every number): 0, or -1 past n bytes. */
int ns_put_varint(struct ns_buf *b, uint64_t v);
static inline int ns_get_varint(const unsigned char *p, size_t n, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    if (*pos < n && p[*pos] < 0x80) { /* one byte: most of a day pack's counts */
        *v = p[(*pos)++];
        return 0;
    }
    for (int shift = 0; shift < 64; shift += 7) {
        unsigned char c;
        if (*pos >= n) {
            return -1;
        }
        c = p[(*pos)++];
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}
uint64_t ns_zigzag(int64_t v);
int64_t ns_unzigzag(uint64_t v);

/* pack.c: the compact raw event. */
/* 1 when the field is a column of table events rather than packed. */
int ns_pack_is_column(int f);
/* 1 when the field's text is interned (a column's, or packed by its str.id). */
int ns_pack_interned(int f);
/* The str.id of s, added to table str when new. Returns NS_OK or NS_EDB. */
int ns_intern(struct ns_store *st, const char *s, int64_t *id);
/* The same, given ns_intern_hash(s) (which any thread may compute). */
int ns_intern_hashed(struct ns_store *st, const char *s, uint64_t hash, int64_t *id);
uint64_t ns_intern_hash(const char *s);
/* Forgets the cached ids (after a rollback: ids added in it are gone). */
/* The str.id of text a folded to lower case (ASCII, as SQL's lower()), joined by char(31)
 * to b folded when b is not NULL; a_id, b_id: their own str.id, -1 for an empty text (0:
 * unknown, then the texts are folded and looked up each time). *id = 0 when a is empty and b
 * is NULL or empty. */
int ns_intern_folded(struct ns_store *st, const char *a, int64_t a_id, const char *b, int64_t b_id,
                     int64_t *id);
void ns_intern_clear(struct ns_intern *t);
void ns_intern_free(struct ns_intern *t);
/* Packs the fields of ev that are not columns, and the agent, into out; hash: NULL, or the
 * ns_intern_hash of each text field (struct ns_digest). */
int ns_pack_event(struct ns_store *st, const struct ns_event *ev, const uint64_t *hash,
                  const char *agent, struct ns_buf *out);
/* The str.id ns_pack_event last gave field f (0: none, or not interned). */
int64_t ns_pack_id(const struct ns_store *st, int f);
/* Registers the SQL function ns_field(blob, name) on a connection. */
int ns_pack_register(sqlite3 *db);

#endif
