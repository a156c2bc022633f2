/*
 * ns_store.h - the only code that talks to SQLite: opens and migrates the database, stores
 * events in batched transactions (each event once), keeps the daily rollups current, and
 * runs the named views of sql/.
 */
#ifndef NS_STORE_H
#define NS_STORE_H

#include "ns_event.h"

struct ns_store; /* opaque: store/store.c */

/* Schema version this build writes (PRAGMA user_version). */
#define NS_SCHEMA_VERSION 14
/* Events per transaction during ingest: a batch's rollups are written once per key, so a
 * larger batch writes fewer rows per event (65,536 against 32,768: 5.9% fewer instructions
 * for 219 k events); ingest's peak RSS stays under 64 MB with it (61 MB at 10 M events). */
#define NS_STORE_BATCH 65536
/* A batch also ends once its rollup rows (dependency-days, exception-list and host rows, 144
 * bytes each in memory) reach this many, so that their memory is bounded whatever the
 * events: bench/run.sh's 1 M events make 73,000 a batch, its 200,000 (more days per batch)
 * 109,000, which took peak RSS to 64 MB. */
#define NS_STORE_ROLLUP_ROWS 80000

/*
 * Opens (creating if needed) and migrates the database at path. Returns NS_OK and sets *out,
 * or an error code with a sentence in err (a newer schema than this build knows is refused).
 * Close with ns_store_close().
 */
int ns_store_open(struct ns_store **out, const char *path, char *err, size_t errlen);
/* Opens an existing database for reading only (views, tokens); never writes or migrates.
 * Refuses a database whose schema is not NS_SCHEMA_VERSION. */
int ns_store_open_readonly(struct ns_store **out, const char *path, char *err, size_t errlen);
/* Commits what is pending and closes. NULL is fine. Returns NS_OK or NS_EDB. */
int ns_store_close(struct ns_store *st);
/* The last SQLite error message of this store. */
const char *ns_store_errmsg(const struct ns_store *st);

/*
 * Adds one event to the current batch (a transaction opened on demand, committed every
 * NS_STORE_BATCH events). *duplicate is set to 1 when the event was already stored (same
 * computer, channel, record id and time) and nothing changed. Returns NS_OK or NS_EDB.
 */
int ns_store_add(struct ns_store *st, const struct ns_event *ev, int *duplicate);
/* What storing an event computes from the event alone, so that another thread (the
 * parser's) can compute it beforehand: the hashes of its dependency's key, and the string
 * hash of each text field the store interns (str[f]; 0 for the others). */
struct ns_digest {
    uint64_t dep_h1, dep_h2;
    uint64_t str[NS_F_COUNT];
};
/* Computes ev's digest; safe on any thread. */
void ns_store_digest(const struct ns_event *ev, struct ns_digest *d);
/* Only its dependency hashes (dep_h1, dep_h2). */
void ns_store_dep_digest(const struct ns_event *ev, uint64_t *h1, uint64_t *h2);

/* Events to store, in order: next gives the next one (NULL at the end; valid until the next
 * call), tell and seek return to a place (the store reads each event twice). digest is NULL,
 * or gives the digest of the event next gave last (NULL: the store computes it). */
struct ns_event_source {
    void *ctx;
    const struct ns_event *(*next)(void *ctx);
    size_t (*tell)(void *ctx);
    void (*seek)(void *ctx, size_t pos);
    const struct ns_digest *(*digest)(void *ctx);
};
/* Adds every event of src as ns_store_add would one by one (a commit falls between slices of
 * them rather than after an exact number), each slice of events inserted by one statement.
 * *stored and *duplicates count them. Returns NS_OK, NS_EDB or NS_ENOMEM. */
int ns_store_add_events(struct ns_store *st, const struct ns_event_source *src, uint64_t *stored,
                        uint64_t *duplicates);
/* Events per automatic commit (default NS_STORE_BATCH); 0: commit only in ns_store_commit,
 * so a whole HTTP batch is one transaction. */
void ns_store_set_batch_limit(struct ns_store *st, int events);
/* Rollup rows after which an automatic commit comes early (default NS_STORE_ROLLUP_ROWS). */
void ns_store_set_rollup_limit(struct ns_store *st, size_t rows);
/* Transactions committed since the store was opened. */
uint64_t ns_store_commits(const struct ns_store *st);
/* WAL checkpoints of a writer run on a thread of their own (store/checkpoint.c): a pass
 * starts when a commit leaves start frames (pages) in the WAL, the writer copies back the
 * last ones itself when at most gap are left, and waits for the thread when the WAL reaches
 * limit frames. ns_store_open sets 16000, 6000 and 32000; nothing for a read-only store.
 * Returns NS_OK or NS_ENOMEM. */
int ns_store_set_checkpoints(struct ns_store *st, int start, int gap, int limit);
/* Passes of the thread that copied frames back, and checkpoints the writer ran itself. */
void ns_store_checkpoint_counts(const struct ns_store *st, uint64_t *passes, uint64_t *own);
/* Name of the agent whose events are being added (kept by pointer until changed), or NULL
 * for local ingest. */
void ns_store_set_agent(struct ns_store *st, const char *agent);
/* Writes the batch's rollups and commits. Returns NS_OK or NS_EDB. After NS_EDB the batch
 * is rolled back: none of its events is stored. */
int ns_store_commit(struct ns_store *st);
/* Discards the current batch. */
void ns_store_rollback(struct ns_store *st);

/* ------------------------------------------------------------------------------------------ */
/* Views                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Kinds of cell a view returns. */
enum ns_cell_type {
    NS_CELL_NULL, /* no value */
    NS_CELL_INT,  /* i */
    NS_CELL_TEXT, /* s (UTF-8) */
    NS_CELL_TIME, /* i: microseconds since 1970 UTC */
    NS_CELL_DAY   /* i: days since 1970-01-01 */
};

struct ns_cell {
    enum ns_cell_type type; /* what the cell holds */
    int64_t i;              /* INT, TIME, DAY */
    const char *s;          /* TEXT; valid during the row callback only */
};

/* Exact-match filters a view can take (sql/ parameter names). */
enum ns_filter {
    NS_Q_CLIENT,   /* :client   - short host name or address */
    NS_Q_ACCOUNT,  /* :account */
    NS_Q_DOMAIN,   /* :domain */
    NS_Q_PROCESS,  /* :process */
    NS_Q_TARGET,   /* :target   - short host name or address */
    NS_Q_SERVICE,  /* :service  - target service */
    NS_Q_REASON,   /* :reason_id */
    NS_Q_VERSION,  /* :version  - NTLM version */
    NS_Q_COMPUTER, /* :computer - reporting host (hosts, events) */
    NS_Q_COUNT
};
/* The parameter name of each filter ("client", ...), for APIs that take them by name. */
extern const char *const ns_filter_names[NS_Q_COUNT];

/* Range, filters, order and page of a view. */
struct ns_view_params {
    int64_t since_day; /* first day included (days since 1970) */
    int64_t until_day; /* last day included */
    int64_t limit;     /* rows at most; -1 for all */
    int64_t offset;    /* rows skipped first */
    const char *q;     /* text searched (case-insensitive substring) in the text columns */
    const char *sort;  /* column to sort by, or NULL for the view's own order */
    int desc;          /* sort descending */
    const char *filter[NS_Q_COUNT]; /* exact filters; "" matches an absent value */
};

/* Sets the defaults: every day, no filter, the view's order, no limit. */
void ns_view_params_init(struct ns_view_params *p);

/* Called once per row; names[] are the view's keys. Return NS_OK to go on. */
typedef int (*ns_row_fn)(void *ctx, int ncol, const char *const *names,
                         const struct ns_cell *cells);

/* The view names, ended by NULL. */
const char *const *ns_store_views(void);
/* Returns 1 when name is a view. */
int ns_store_view_exists(const char *name);
/*
 * Runs a view and calls fn for each row. Returns NS_OK, NS_ENOTFOUND for an unknown view,
 * NS_EDB, or the code fn stopped with. When the view has no rows fn is called once with
 * ncol set and cells NULL, so renderers can print headers.
 */
int ns_store_view(struct ns_store *st, const char *name, const struct ns_view_params *p,
                  ns_row_fn fn, void *ctx);
/* Rows the last view matched before its limit and offset (-1 when the view does not
 * count them). */
int64_t ns_store_last_total(const struct ns_store *st);

/* ------------------------------------------------------------------------------------------ */
/* Agents and their tokens                                                                     */
/* ------------------------------------------------------------------------------------------ */

#define NS_TOKEN_BYTES 32 /* random bytes of a token; shown as 64 hex characters */

/* Creates a token for agent name ([A-Za-z0-9._-], 1-64 characters) and writes it (64 hex
 * characters) into token. Only its SHA-256 is stored. Returns NS_OK, NS_EINVAL for a bad or
 * taken name (err says which), NS_EDB. */
int ns_token_add(struct ns_store *st, const char *name, char token[2 * NS_TOKEN_BYTES + 1],
                 char *err, size_t errlen);
/* Revokes the token of name. Returns NS_OK, NS_ENOTFOUND (no valid token of that name),
 * NS_EDB. */
int ns_token_revoke(struct ns_store *st, const char *name);
/* Checks a presented token against every valid one, in constant time per comparison.
 * Returns NS_OK and copies the agent's name into name, or NS_ENOTFOUND, or NS_EDB. */
int ns_token_check(struct ns_store *st, const char *token, char *name, size_t namelen);

/* One token or agent, for listings. */
struct ns_agent_info {
    const char *name;         /* agent (token) name */
    int64_t created;          /* token creation, µs; 0 when not a token listing */
    int64_t revoked;          /* revocation time, µs; 0 while valid */
    int64_t first_seen;       /* first batch, µs; 0 when none yet */
    int64_t last_seen;        /* last batch, µs; 0 when none yet */
    const char *last_address; /* client address of the last batch, or NULL */
    int64_t batches;          /* batches delivered */
    int64_t events;           /* new events stored */
    int64_t duplicates;       /* duplicate events received */
};
typedef int (*ns_agent_fn)(void *ctx, const struct ns_agent_info *a);
/* Calls fn for every token (with its agent's activity). Returns NS_OK, NS_EDB or fn's code. */
int ns_token_list(struct ns_store *st, ns_agent_fn fn, void *ctx);
/* Calls fn for every agent that delivered a batch. */
int ns_agent_list(struct ns_store *st, ns_agent_fn fn, void *ctx);
/* Records, inside the open batch, that agent delivered a batch from address. */
int ns_agent_seen(struct ns_store *st, const char *agent, const char *address, int64_t now_us,
                  uint64_t stored, uint64_t duplicates);

/* ------------------------------------------------------------------------------------------ */
/* Weekly summaries sent                                                                       */
/* ------------------------------------------------------------------------------------------ */

/* Sets *sent to 1 when the summary of the week ending on that day was sent. Returns NS_OK or
 * NS_EDB. */
int ns_summary_was_sent(struct ns_store *st, int64_t week_ending, int *sent);
/* Records that it was sent now to recipients (one transaction). Returns NS_OK or NS_EDB. */
int ns_summary_mark_sent(struct ns_store *st, int64_t week_ending, int64_t now_us,
                         const char *recipients);

/* ------------------------------------------------------------------------------------------ */
/* Ingest: a parser sink that stores events and counts what happened                           */
/* ------------------------------------------------------------------------------------------ */

#include "ns_parser.h"

/* What an ingest saw. */
struct ns_ingest_counts {
    uint64_t stored;     /* new events stored */
    uint64_t duplicates; /* events already in the database */
    uint64_t skipped;    /* events of other channels or providers */
    uint64_t rejected;   /* events that could not be read or stored */
};

/* Called for each rejected event, after it is counted. */
typedef void (*ns_reject_fn)(void *ctx, const char *source, const char *where, const char *why);

struct ns_pipeline; /* store/ingest.c */
struct ns_held;     /* store/ingest.c */

struct ns_ingest {
    struct ns_store *st;       /* where events go */
    struct ns_ingest_counts n; /* running counts */
    int db_rc;                 /* NS_OK, or the store error that stopped the ingest */
    ns_reject_fn on_reject;    /* optional report of each rejection */
    void *reject_ctx;          /* passed to on_reject */
    struct ns_pipeline *pipe;  /* a store thread, when started; NULL: store inline */
    uint64_t handed;           /* NTLM events handed to the store (the parsing thread's count,
                                  for progress while the store thread counts the rest) */
    struct ns_held *held;      /* events parsed and kept to be stored later, or NULL */
    uint64_t nheld;            /* events in held */
};

/* Prepares an ingest into st; on_reject may be NULL. */
void ns_ingest_init(struct ns_ingest *in, struct ns_store *st, ns_reject_fn on_reject, void *ctx);
/* A sink that feeds this ingest (valid while *in lives). */
struct ns_sink ns_ingest_sink(struct ns_ingest *in);
/* Parse now, store later: events are kept (serialized, compact) instead of stored, so the
 * parsing needs no lock on the store; ns_ingest_store_held() then stores them. Returns NS_OK
 * or NS_ENOMEM. */
int ns_ingest_hold(struct ns_ingest *in);
/* Stores the held events (counted as stored or duplicate) in the store's open batch, then
 * forgets them. Returns in->db_rc. */
int ns_ingest_store_held(struct ns_ingest *in);
/* Forgets the held events unstored and frees their memory. NULL-safe. */
void ns_ingest_drop_held(struct ns_ingest *in);
/* Stores events on a second thread while the caller goes on parsing (a ring of chunks of
 * events in flight at most). The store is then used by that thread only, until ns_ingest_drain().
 * Returns NS_OK, or an error (the ingest then stays inline). */
int ns_ingest_pipeline(struct ns_ingest *in);
/* Waits until every event handed over is stored (and counted); the store may then be used by
 * the caller again (commit, rollback). Returns in->db_rc. */
int ns_ingest_drain(struct ns_ingest *in);
/* Drains and stops the store thread. NULL-safe. */
void ns_ingest_end(struct ns_ingest *in);

#endif
