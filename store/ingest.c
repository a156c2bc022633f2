/*
 * ingest.c - the parser sink that stores events and counts stored, duplicate, skipped and
 * rejected events. Shared by `ntlmscope ingest`, `demo` and the server. `ingest` stores on a
 * second thread (ns_ingest_pipeline) so parsing and storing overlap on two cores.
 */
#include <pthread.h>
#include <stdlib.h>

#include "ns_store.h"

#define PIPE_BATCH 256 /* events handed over at once */

/* A batch of copied events. */
struct pipe_batch {
    struct ns_event ev[PIPE_BATCH]; /* copies, arenas reused */
    int n;                          /* events in it */
};

/* Two batches: the parser fills one while the store thread stores the other. */
struct ns_pipeline {
    pthread_t thread;           /* the store thread */
    pthread_mutex_t lock;       /* guards everything below */
    pthread_cond_t changed;     /* signalled on every hand-over */
    struct pipe_batch batch[2]; /* the two batches */
    int filling;                /* the batch the parser fills */
    int full[2];                /* batch k waits to be stored */
    int busy;                   /* the store thread is storing a batch */
    int quit;                   /* the store thread must stop */
};

/* Frees a pipeline's memory (its thread is gone). */
static void pipeline_free(struct ns_pipeline *p)
{
    for (int k = 0; k < 2; k++) {
        for (int e = 0; e < PIPE_BATCH; e++) {
            ns_event_free(&p->batch[k].ev[e]);
        }
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->changed);
    free(p);
}

/* Stores one event inline and counts it. */
static int store_one(struct ns_ingest *in, const struct ns_event *ev)
{
    int dup = 0, rc = ns_store_add(in->st, ev, &dup);
    if (rc != NS_OK) {
        in->db_rc = rc;
        return rc;
    }
    if (dup) {
        in->n.duplicates++;
    } else {
        in->n.stored++;
    }
    return NS_OK;
}

static void *store_thread(void *arg)
{
    struct ns_ingest *in = arg;
    struct ns_pipeline *p = in->pipe;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        int k = p->full[0] ? 0 : p->full[1] ? 1 : -1;
        if (k < 0) {
            if (p->quit) {
                break;
            }
            pthread_cond_wait(&p->changed, &p->lock);
            continue;
        }
        p->busy = 1;
        pthread_mutex_unlock(&p->lock);
        for (int e = 0; e < p->batch[k].n && in->db_rc == NS_OK; e++) {
            if (store_one(in, &p->batch[k].ev[e]) != NS_OK) {
                break;
            }
        }
        pthread_mutex_lock(&p->lock);
        p->batch[k].n = 0;
        p->full[k] = 0;
        p->busy = 0;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Hands the batch being filled to the store thread and waits for the other one to be free. */
static int hand_over(struct ns_ingest *in)
{
    struct ns_pipeline *p = in->pipe;
    int k = p->filling, rc;
    pthread_mutex_lock(&p->lock);
    p->full[k] = 1;
    pthread_cond_broadcast(&p->changed);
    while (p->full[1 - k]) {
        pthread_cond_wait(&p->changed, &p->lock);
    }
    p->filling = 1 - k;
    rc = in->db_rc; /* read under the lock: the store thread writes it */
    pthread_mutex_unlock(&p->lock);
    return rc;
}

static int on_event(void *ctx, const struct ns_event *ev)
{
    struct ns_ingest *in = ctx;
    struct pipe_batch *b;
    int rc;
    in->handed++;
    if (!in->pipe) {
        return store_one(in, ev);
    }
    b = &in->pipe->batch[in->pipe->filling];
    if ((rc = ns_event_copy(&b->ev[b->n], ev)) != NS_OK) {
        in->db_rc = rc;
        return rc;
    }
    if (++b->n == PIPE_BATCH) {
        return hand_over(in);
    }
    return NS_OK;
}

int ns_ingest_pipeline(struct ns_ingest *in)
{
    struct ns_pipeline *p = calloc(1, sizeof(*p));
    if (!p) {
        return NS_ENOMEM;
    }
    for (int k = 0; k < 2; k++) {
        for (int e = 0; e < PIPE_BATCH; e++) {
            ns_event_init(&p->batch[k].ev[e]);
        }
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    in->pipe = p;
    if (pthread_create(&p->thread, NULL, store_thread, in) != 0) {
        in->pipe = NULL;
        pipeline_free(p);
        return NS_ENOMEM;
    }
    return NS_OK;
}

int ns_ingest_drain(struct ns_ingest *in)
{
    struct ns_pipeline *p = in->pipe;
    int rc;
    if (!p) {
        return in->db_rc;
    }
    if (p->batch[p->filling].n) {
        hand_over(in);
    }
    pthread_mutex_lock(&p->lock);
    while (p->full[0] || p->full[1] || p->busy) {
        pthread_cond_wait(&p->changed, &p->lock);
    }
    rc = in->db_rc;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void ns_ingest_end(struct ns_ingest *in)
{
    struct ns_pipeline *p;
    if (!in || !(p = in->pipe)) {
        return;
    }
    ns_ingest_drain(in);
    pthread_mutex_lock(&p->lock);
    p->quit = 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    in->pipe = NULL;
    pipeline_free(p);
}

static void on_skip(void *ctx, const struct ns_raw *raw)
{
    struct ns_ingest *in = ctx;
    (void)raw;
    in->n.skipped++;
}

static void on_reject(void *ctx, const char *source, const char *where, const char *why)
{
    struct ns_ingest *in = ctx;
    in->n.rejected++;
    if (in->on_reject) {
        in->on_reject(in->reject_ctx, source, where, why);
    }
}

void ns_ingest_init(struct ns_ingest *in, struct ns_store *st, ns_reject_fn fn, void *ctx)
{
    in->st = st;
    in->n.stored = in->n.duplicates = in->n.skipped = in->n.rejected = 0;
    in->db_rc = NS_OK;
    in->on_reject = fn;
    in->reject_ctx = ctx;
    in->pipe = NULL;
    in->handed = 0;
}

struct ns_sink ns_ingest_sink(struct ns_ingest *in)
{
    struct ns_sink s;
    s.ctx = in;
    s.on_event = on_event;
    s.on_skip = on_skip;
    s.on_reject = on_reject;
    return s;
}
