/*
 * checkpoint.c - WAL checkpoints on a thread of their own, so a writer that commits batch
 * after batch does not stop to copy its WAL back into the database.
 *
 * A checkpoint copies the WAL's frames into the database file; the next write transaction
 * starts the WAL again from its beginning only when every frame was copied back before it
 * began. The writer's commits add frames all the time, so a checkpoint that runs beside them
 * never quite catches up: the thread copies the bulk (the WAL as it was when its pass
 * began) while the writer goes on, and the writer itself copies the few frames committed
 * since, when they are few (a checkpoint goes on from the last frame copied back).
 *
 * The writer's WAL hook (called after each commit, outside its write lock) decides:
 *  - fewer than start frames in the WAL: nothing;
 *  - limit frames or more: the writer waits for the thread's pass, if one runs, and
 *    checkpoints itself, so the WAL stays bounded whatever the thread's pace;
 *  - the thread idle and at most gap frames, or a third of the WAL, not copied back: the
 *    writer checkpoints now;
 *  - the thread idle: it is asked for a pass (a pass already running goes on alone).
 * The thread and its connection start when the WAL first reaches start frames; when either
 * cannot start, the writer checkpoints by itself as SQLite's automatic checkpoint would.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

struct ns_ckpt {
    sqlite3 *writer;        /* the writer's connection (its hook's) */
    sqlite3 *db;            /* the thread's own connection */
    pthread_t thread;       /* runs the passes */
    pthread_mutex_t lock;   /* guards everything below */
    pthread_cond_t changed; /* a pass is asked for, has ended, or the thread must stop */
    int started;            /* the thread runs */
    int failed;             /* it could not start: the writer checkpoints itself */
    int want, busy, quit;   /* a pass is asked for / running; the thread must stop */
    int copied;             /* frames copied back by the last pass (0: unknown) */
    int frames;             /* frames in the WAL at the last commit */
    int start, gap, limit;  /* the thresholds above, in frames */
    uint64_t passes;        /* passes of the thread that copied frames back */
    uint64_t own;           /* checkpoints the writer ran itself */
};

/* A passive checkpoint of db: copies back what no reader still needs, blocks no one. */
static int passive(sqlite3 *db, int *log, int *copied)
{
    *log = *copied = 0;
    return sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, log, copied);
}

static void *ckpt_thread(void *arg)
{
    struct ns_ckpt *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->quit) {
        int log, copied, rc;
        if (!c->want) {
            pthread_cond_wait(&c->changed, &c->lock);
            continue;
        }
        c->want = 0;
        c->busy = 1;
        pthread_mutex_unlock(&c->lock);
        rc = passive(c->db, &log, &copied);
        pthread_mutex_lock(&c->lock);
        c->busy = 0;
        c->copied = rc == SQLITE_OK ? copied : 0;
        c->passes += c->copied > 0;
        pthread_cond_broadcast(&c->changed);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* Starts the thread and its connection to the writer's file (c->failed when it cannot). */
static void ckpt_start(struct ns_ckpt *c)
{
    const char *path = sqlite3_db_filename(c->writer, "main");
    c->failed = 1;
    if (!path || !*path ||
        sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(c->db);
        c->db = NULL;
        return;
    }
    if (pthread_create(&c->thread, NULL, ckpt_thread, c) != 0) {
        sqlite3_close(c->db);
        c->db = NULL;
        return;
    }
    c->failed = 0;
    c->started = 1;
}

/* The writer checkpoints itself (outside the lock). */
static void own_checkpoint(struct ns_ckpt *c, sqlite3 *db)
{
    int log, copied;
    passive(db, &log, &copied);
    pthread_mutex_lock(&c->lock);
    c->own++;
    c->copied = 0; /* the WAL starts again at the next transaction, when all was copied */
    pthread_mutex_unlock(&c->lock);
}

static int ckpt_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
    struct ns_ckpt *c = ctx;
    int self = 0;
    (void)name;
    pthread_mutex_lock(&c->lock);
    if (frames < c->frames) {
        c->copied = 0; /* the WAL started again: what the last pass copied is gone */
    }
    c->frames = frames;
    if (frames < c->start) {
        pthread_mutex_unlock(&c->lock);
        return SQLITE_OK;
    }
    if (!c->started && !c->failed) {
        ckpt_start(c);
    }
    if (c->failed) {
        self = 1;
    } else if (frames >= c->limit) {
        while (c->busy || c->want) {
            pthread_cond_wait(&c->changed, &c->lock);
        }
        self = 1;
    } else if (!c->busy && !c->want) {
        /* copied counts frames of this WAL only while it has not started again */
        int left = c->copied > 0 && c->copied <= frames ? frames - c->copied : frames;
        if (left <= c->gap || left * 3 <= frames) {
            self = 1;
        } else {
            c->want = 1;
            pthread_cond_broadcast(&c->changed);
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (self) {
        own_checkpoint(c, db);
    }
    return SQLITE_OK;
}

int ns_ckpt_attach(struct ns_store *st, int start, int gap, int limit)
{
    struct ns_ckpt *c = st->ckpt;
    if (!c) {
        if (!(c = calloc(1, sizeof(*c)))) {
            return NS_ENOMEM;
        }
        if (pthread_mutex_init(&c->lock, NULL) != 0) {
            free(c);
            return NS_ENOMEM;
        }
        if (pthread_cond_init(&c->changed, NULL) != 0) {
            pthread_mutex_destroy(&c->lock);
            free(c);
            return NS_ENOMEM;
        }
        c->writer = st->db;
        st->ckpt = c;
    }
    pthread_mutex_lock(&c->lock);
    c->start = start > 0 ? start : 1;
    c->gap = gap;
    c->limit = limit > c->start ? limit : c->start;
    pthread_mutex_unlock(&c->lock);
    sqlite3_wal_hook(st->db, ckpt_hook, c); /* in place of the automatic checkpoint */
    return NS_OK;
}

void ns_store_checkpoint_counts(const struct ns_store *st, uint64_t *passes, uint64_t *own)
{
    struct ns_ckpt *c = st->ckpt;
    *passes = *own = 0;
    if (c) {
        pthread_mutex_lock(&c->lock);
        *passes = c->passes;
        *own = c->own;
        pthread_mutex_unlock(&c->lock);
    }
}

int ns_store_set_checkpoints(struct ns_store *st, int start, int gap, int limit)
{
    if (st->readonly) {
        return NS_OK;
    }
    return ns_ckpt_attach(st, start, gap, limit);
}

void ns_ckpt_detach(struct ns_store *st)
{
    struct ns_ckpt *c = st->ckpt;
    if (!c) {
        return;
    }
    sqlite3_wal_hook(st->db, NULL, NULL);
    if (c->started) {
        pthread_mutex_lock(&c->lock);
        c->quit = 1;
        pthread_cond_broadcast(&c->changed);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
        sqlite3_close(c->db);
    }
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
    free(c);
    st->ckpt = NULL;
}
