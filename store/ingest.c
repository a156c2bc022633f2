/*
 * ingest.c - the parser sink that stores events and counts stored, duplicate, skipped and
 * rejected events. Shared by `ntlmscope ingest`, `demo` and the server. `ingest` stores on a
 * second thread (ns_ingest_pipeline) so parsing and storing overlap on two cores.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ns_store.h"
#include "store_int.h"

/* A chunk's buffer grows (by doubling) to PIPE_CAP and is handed over once it holds
 * PIPE_CHUNK, so that nearly all of it is used and the next event seldom makes it grow. */
#define PIPE_CAP ((size_t)256 << 10)
#define PIPE_CHUNK (PIPE_CAP - ((size_t)16 << 10))
/* Chunks in the ring: the parser runs ahead (about 23,000 events) while a commit runs. */
#define PIPE_DEPTH 24

/* Events serialized one after the other, each text written once per buffer (a chunk of the
 * ring, or the events an HTTP batch holds):
 *   a text record: PIPE_TEXT, its length (4 bytes), its ns_intern_hash (8), its bytes, a NUL;
 *   an event record: per field present, its number, a flags byte (1: has a value, 4: a
 *   non-zero int follows, 2: a text follows), the int's 8 bytes, the offset of its text's
 *   bytes in its record (4 bytes); then PIPE_END and the event's dependency hashes (struct
 *   ns_digest).
 * A text's record comes before the first event that refers to it. The hashes are computed
 * by the thread that serializes, so the store thread need not; texts once (bench/run.sh's
 * domain: 250 bytes per event instead of 520 with each text in every event) let the ring run
 * twice as far ahead. */
#define PIPE_END 0xFF
#define PIPE_TEXT 0xFE
#define TEXT_HEAD (1 + 4 + 8) /* a text record's bytes before its text */
_Static_assert(NS_F_COUNT < PIPE_TEXT, "a field number must fit a byte below PIPE_TEXT");

/* Whether a field's text is interned (its hash goes to the store), by field. */
static unsigned char interned[NS_F_COUNT];
static pthread_once_t interned_once = PTHREAD_ONCE_INIT;

static void interned_init(void)
{
    for (int f = 0; f < NS_F_COUNT; f++) {
        interned[f] = (unsigned char)ns_pack_interned(f);
    }
}

/* The offset of text s in b (in its record), appending the record when b has none yet; x
 * holds the texts b has (the writing thread's alone). */
static int text_offset(struct ns_buf *b, struct ns_textset *x, const char *s, uint32_t *off)
{
    size_t len = strlen(s);
    uint64_t h = ns_intern_hash(s);
    struct ns_textset_slot *slot = ns_textset_find(x, b->data, s, len, h ? h : 1);
    char *p;
    if (!slot) {
        return NS_ENOMEM;
    }
    if (slot->hash) {
        *off = slot->off;
        return NS_OK;
    }
    if (b->len + TEXT_HEAD + len + 1 > UINT32_MAX || !(p = ns_buf_space(b, TEXT_HEAD + len + 1))) {
        return NS_ENOMEM;
    }
    {
        uint32_t n = (uint32_t)len;
        p[0] = (char)PIPE_TEXT;
        memcpy(p + 1, &n, sizeof(n));
        memcpy(p + 5, &h, sizeof(h));
        memcpy(p + TEXT_HEAD, s, len + 1);
    }
    *off = (uint32_t)(b->len + TEXT_HEAD);
    ns_textset_put(x, slot, h ? h : 1, *off, (uint32_t)len, 0);
    ns_buf_commit(b, TEXT_HEAD + len + 1);
    return NS_OK;
}

struct pipe_chunk {
    struct ns_buf buf; /* the serialized events */
    int n;             /* events in it */
};

/* A ring of chunks: the parser fills one while the store thread stores the oldest full one,
 * in order. */
struct ns_pipeline {
    pthread_t thread;                    /* the store thread */
    pthread_mutex_t lock;                /* guards everything below */
    pthread_cond_t changed;              /* signalled on every hand-over */
    struct pipe_chunk chunk[PIPE_DEPTH]; /* the ring */
    int filling;                         /* the chunk the parser fills */
    int next;                            /* the chunk the store thread stores next */
    int full[PIPE_DEPTH];                /* chunk k waits to be stored */
    int busy;                            /* the store thread is storing a chunk */
    int quit;                            /* the store thread must stop */
    struct ns_event ev;                  /* the event being stored (texts in its chunk) */
    struct ns_textset idx;               /* the texts of the chunk being filled */
};

/* Events parsed and held to be stored later (an HTTP batch). */
struct ns_held {
    struct ns_buf buf;     /* serialized */
    struct ns_textset idx; /* their texts */
};

/* Frees a pipeline's memory (its thread is gone). */
static void pipeline_free(struct ns_pipeline *p)
{
    for (int k = 0; k < PIPE_DEPTH; k++) {
        ns_buf_free(&p->chunk[k].buf);
    }
    ns_event_free(&p->ev);
    ns_textset_free(&p->idx);
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

/* Appends ev and its dependency hashes to b: the records of its new texts, then its own (its
 * size counted first, then written in place). */
static int put_event(struct ns_buf *b, struct ns_textset *x, const struct ns_event *ev)
{
    size_t need = 1 + 2 * sizeof(uint64_t), at = 0;
    uint32_t off[NS_F_COUNT];
    uint64_t h1, h2;
    char *p;
    int rc;
    for (int f = 0; f < NS_F_COUNT; f++) {
        if (!ev->has[f] && !ev->s[f]) {
            continue;
        }
        need += 2 + (ev->i[f] ? sizeof(ev->i[f]) : 0);
        if (ev->s[f]) {
            if ((rc = text_offset(b, x, ev->s[f], &off[f])) != NS_OK) {
                return rc;
            }
            need += sizeof(uint32_t);
        }
    }
    if (!(p = ns_buf_space(b, need))) {
        return NS_ENOMEM;
    }
    ns_store_dep_digest(ev, &h1, &h2);
    for (int f = 0; f < NS_F_COUNT; f++) {
        if (!ev->has[f] && !ev->s[f]) {
            continue;
        }
        p[at++] = (char)f;
        p[at++] = (char)((ev->has[f] ? 1 : 0) | (ev->s[f] ? 2 : 0) | (ev->i[f] ? 4 : 0));
        if (ev->i[f]) {
            memcpy(p + at, &ev->i[f], sizeof(ev->i[f]));
            at += sizeof(ev->i[f]);
        }
        if (ev->s[f]) {
            memcpy(p + at, &off[f], sizeof(off[f]));
            at += sizeof(off[f]);
        }
    }
    p[at++] = (char)PIPE_END;
    memcpy(p + at, &h1, sizeof(uint64_t));
    memcpy(p + at + 8, &h2, sizeof(uint64_t));
    at += 2 * sizeof(uint64_t);
    ns_buf_commit(b, at);
    return NS_OK;
}

/* Reads the event at *pos of the chunk into ev (its texts point into the chunk) and its
 * digest into d. */
static void get_event(const struct ns_buf *b, size_t *pos, struct ns_event *ev, struct ns_digest *d)
{
    const char *p = b->data;
    size_t at = *pos;
    memset(ev->s, 0, sizeof(ev->s));
    memset(ev->i, 0, sizeof(ev->i)); /* as ns_event_reset: nothing of the previous event */
    memset(ev->has, 0, sizeof(ev->has));
    memset(d->str, 0, sizeof(d->str));
    while ((unsigned char)p[at] == PIPE_TEXT) { /* texts: read where an event refers to them */
        uint32_t len;
        memcpy(&len, p + at + 1, sizeof(len));
        at += TEXT_HEAD + len + 1;
    }
    while ((unsigned char)p[at] != PIPE_END) {
        int f = (unsigned char)p[at], flags = (unsigned char)p[at + 1];
        at += 2;
        ev->has[f] = (unsigned char)(flags & 1);
        if (flags & 4) {
            memcpy(&ev->i[f], p + at, sizeof(ev->i[f]));
            at += sizeof(ev->i[f]);
        }
        if (flags & 2) {
            uint32_t off;
            memcpy(&off, p + at, sizeof(off));
            at += sizeof(off);
            ev->s[f] = p + off;
            if (interned[f]) { /* the hash stands just before the text */
                memcpy(&d->str[f], p + off - sizeof(d->str[f]), sizeof(d->str[f]));
            }
        }
    }
    at++;
    memcpy(&d->dep_h1, p + at, sizeof(uint64_t));
    memcpy(&d->dep_h2, p + at + 8, sizeof(uint64_t));
    *pos = at + 2 * sizeof(uint64_t);
}

/* The events serialized in a buffer, as a source for the store. */
struct serialized {
    const struct ns_buf *b;
    uint64_t n, read;   /* events in b, and read */
    size_t pos;         /* where the next one starts */
    uint64_t mark_read; /* the place tell gave last */
    size_t mark_pos;    /* and where its event starts */
    struct ns_event *ev;
    struct ns_digest dg; /* the digest of the event read last */
};

static const struct ns_event *serialized_next(void *ctx)
{
    struct serialized *z = ctx;
    if (z->read >= z->n) {
        return NULL;
    }
    get_event(z->b, &z->pos, z->ev, &z->dg);
    z->read++;
    return z->ev;
}

static const struct ns_digest *serialized_digest(void *ctx)
{
    return &((struct serialized *)ctx)->dg;
}

/* A place is the number of events read; the last one told is found again at once. */
static size_t serialized_tell(void *ctx)
{
    struct serialized *z = ctx;
    z->mark_read = z->read;
    z->mark_pos = z->pos;
    return (size_t)z->read;
}

static void serialized_seek(void *ctx, size_t read)
{
    struct serialized *z = ctx;
    if (read == z->mark_read) {
        z->read = z->mark_read;
        z->pos = z->mark_pos;
        return;
    }
    if (read < z->read) {
        z->pos = 0;
        z->read = 0;
    }
    while (z->read < read && serialized_next(z)) {
    }
}

/* Stores the n events serialized in b, in order (ev holds each in turn), until one fails
 * (in->db_rc says why). */
static void store_serialized(struct ns_ingest *in, const struct ns_buf *b, uint64_t n,
                             struct ns_event *ev)
{
    struct serialized z;
    struct ns_event_source src;
    int rc;
    if (in->db_rc != NS_OK || !n) {
        return;
    }
    z.b = b;
    z.n = n;
    z.read = z.mark_read = 0;
    z.pos = z.mark_pos = 0;
    z.ev = ev;
    src.ctx = &z;
    src.next = serialized_next;
    src.tell = serialized_tell;
    src.seek = serialized_seek;
    src.digest = serialized_digest;
    rc = ns_store_add_events(in->st, &src, &in->n.stored, &in->n.duplicates);
    if (rc != NS_OK) {
        in->db_rc = rc;
    }
}

static void *store_thread(void *arg)
{
    struct ns_ingest *in = arg;
    struct ns_pipeline *p = in->pipe;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        int k = p->full[p->next] ? p->next : -1;
        struct pipe_chunk *c;
        if (k < 0) {
            if (p->quit) {
                break;
            }
            pthread_cond_wait(&p->changed, &p->lock);
            continue;
        }
        p->busy = 1;
        pthread_mutex_unlock(&p->lock);
        c = &p->chunk[k];
        store_serialized(in, &c->buf, (uint64_t)c->n, &p->ev);
        ns_buf_reset(&c->buf);
        if (c->buf.cap > PIPE_CAP) {
            ns_buf_free(&c->buf); /* grown by a huge event: give the memory back */
            ns_buf_init(&c->buf, PIPE_CHUNK + 4 * (size_t)NS_RAW_MAX_BYTES);
        }
        c->n = 0;
        pthread_mutex_lock(&p->lock);
        p->full[k] = 0;
        p->next = (k + 1) % PIPE_DEPTH;
        p->busy = 0;
        pthread_cond_broadcast(&p->changed);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Hands the chunk being filled to the store thread and waits for the next one to be free. */
static int hand_over(struct ns_ingest *in)
{
    struct ns_pipeline *p = in->pipe;
    int k = p->filling, rc, was_idle;
    pthread_mutex_lock(&p->lock);
    was_idle = !p->busy && !p->full[p->next];
    p->full[k] = 1;
    if (was_idle) {
        pthread_cond_broadcast(&p->changed); /* a busy store thread looks again by itself */
    }
    k = (k + 1) % PIPE_DEPTH;
    while (p->full[k]) {
        pthread_cond_wait(&p->changed, &p->lock);
    }
    p->filling = k;
    ns_textset_clear(&p->idx); /* the parser's alone */
    rc = in->db_rc;            /* read under the lock: the store thread writes it */
    pthread_mutex_unlock(&p->lock);
    return rc;
}

static int on_event(void *ctx, const struct ns_event *ev)
{
    struct ns_ingest *in = ctx;
    struct pipe_chunk *c;
    int rc;
    in->handed++;
    if (in->held) {
        if ((rc = put_event(&in->held->buf, &in->held->idx, ev)) != NS_OK) {
            in->db_rc = rc;
            return rc;
        }
        in->nheld++;
        return NS_OK;
    }
    if (!in->pipe) {
        return store_one(in, ev);
    }
    c = &in->pipe->chunk[in->pipe->filling];
    if ((rc = put_event(&c->buf, &in->pipe->idx, ev)) != NS_OK) {
        in->db_rc = rc;
        return rc;
    }
    if (++c->n, c->buf.len >= PIPE_CHUNK) {
        return hand_over(in);
    }
    return NS_OK;
}

int ns_ingest_hold(struct ns_ingest *in)
{
    pthread_once(&interned_once, interned_init);
    if (!in->held) {
        if (!(in->held = calloc(1, sizeof(*in->held)))) {
            return NS_ENOMEM;
        }
        ns_buf_init(&in->held->buf, (size_t)1 << 30);
    }
    in->nheld = 0;
    return NS_OK;
}

int ns_ingest_store_held(struct ns_ingest *in)
{
    struct ns_event ev;
    if (!in->held) {
        return in->db_rc;
    }
    ns_event_init(&ev);
    store_serialized(in, &in->held->buf, in->nheld, &ev);
    ns_event_free(&ev);
    ns_buf_reset(&in->held->buf);
    ns_textset_clear(&in->held->idx);
    in->nheld = 0;
    return in->db_rc;
}

void ns_ingest_drop_held(struct ns_ingest *in)
{
    if (in && in->held) {
        ns_buf_free(&in->held->buf);
        ns_textset_free(&in->held->idx);
        free(in->held);
        in->held = NULL;
        in->nheld = 0;
    }
}

int ns_ingest_pipeline(struct ns_ingest *in)
{
    struct ns_pipeline *p = calloc(1, sizeof(*p));
    if (!p) {
        return NS_ENOMEM;
    }
    pthread_once(&interned_once, interned_init);
    for (int k = 0; k < PIPE_DEPTH; k++) {
        /* room for a chunk plus one event of the largest size (its texts and their framing) */
        ns_buf_init(&p->chunk[k].buf, PIPE_CHUNK + 4 * (size_t)NS_RAW_MAX_BYTES);
    }
    ns_event_init(&p->ev);
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
    if (p->chunk[p->filling].n) {
        hand_over(in);
    }
    pthread_mutex_lock(&p->lock);
    for (;;) {
        int pending = p->busy;
        for (int k = 0; k < PIPE_DEPTH; k++) {
            pending |= p->full[k];
        }
        if (!pending) {
            break;
        }
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
    in->held = NULL;
    in->nheld = 0;
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
