/*
 * batch.c - ntlmscope's binary batch: what `ntlmscope ship` spools and sends. The events are
 * canonical already (normalized on the agent); each text is written once per batch and then
 * referred to by its number, so a batch is small without compression and the server reads
 * it back without parsing text.
 *
 * Layout. Integers are LEB128 varints (at most 10 bytes); signed ones are zigzag-coded first.
 *   "NSBATCH1"              the magic, 8 bytes
 *   records, each one type byte and its contents:
 *     'S' len bytes         a text (UTF-8, no NUL); the texts of a batch are numbered 0, 1, ...
 *     'E' len body          an event, len bytes: (field, value) pairs with the field numbers
 *                           (positions in NS_FIELDS) rising; a value is a text's number
 *                           (TEXT), a signed integer (INT, HEX, TIME) or one byte 0 or 1 (BOOL)
 *     'Z' count             the end of the batch: how many events it holds
 * Batches may follow one another (`cat batch-* | ntlmscope ingest -`); each has its own texts.
 * A bad event is rejected on its own (its length says where the next record starts); a bad
 * record of any other kind, or an input that ends inside a batch, stops the reading there.
 */
#include "ns_parser.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC "NSBATCH1"
#define MAGIC_LEN 8
#define RECORD_MAX ((uint64_t)NS_RAW_MAX_BYTES * 8) /* bytes of one text or event record */
#define END_ROOM 11 /* the end record's bytes at most: every record leaves room for it */

/* Fields without which an event cannot be stored once and only once (as canonical.c). */
static const enum ns_field required[] = {NS_F_channel, NS_F_event_id, NS_F_time_created,
                                         NS_F_record_id, NS_F_computer};

/* ========================================================================================== */
/* Varints                                                                                     */
/* ========================================================================================== */

/* Writes u at p (room for 10 bytes); returns the bytes written. */
static size_t put_varint(unsigned char *p, uint64_t u)
{
    size_t n = 0;
    while (u >= 0x80) {
        p[n++] = (unsigned char)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (unsigned char)u;
    return n;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
}

static int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

/* Reads a varint from p[0..n). Returns the bytes it took, 0 when n ends inside it, or -1
 * when it is longer than 10 bytes or past 64 bits. */
static int get_varint(const unsigned char *p, size_t n, uint64_t *out)
{
    uint64_t u = 0;
    for (size_t k = 0; k < n && k < 10; k++) {
        uint64_t b = p[k] & 0x7f;
        if (k == 9 && p[k] > 1) {
            return -1;
        }
        u |= b << (7 * k);
        if (!(p[k] & 0x80)) {
            *out = u;
            return (int)k + 1;
        }
    }
    return n >= 10 ? -1 : 0;
}

/* ========================================================================================== */
/* Writing                                                                                     */
/* ========================================================================================== */

static uint64_t text_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a, eight bytes a step */
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        uint64_t w;
        memcpy(&w, s + k, 8);
        h = (h ^ w) * 0x100000001b3u;
        h ^= h >> 29;
    }
    for (; k < n; k++) {
        h = (h ^ (unsigned char)s[k]) * 0x100000001b3u;
    }
    h ^= h >> 32;
    return h ? h : 1;
}

void ns_batch_writer_init(struct ns_batch_writer *w, size_t max)
{
    memset(w, 0, sizeof(*w));
    ns_buf_init(&w->out, max);
    ns_buf_init(&w->body, max);
}

void ns_batch_writer_reset(struct ns_batch_writer *w)
{
    ns_buf_reset(&w->out);
    ns_buf_reset(&w->body);
    ns_textset_clear(&w->texts);
    w->events = 0;
}

void ns_batch_writer_free(struct ns_batch_writer *w)
{
    if (!w) {
        return;
    }
    ns_buf_free(&w->out);
    ns_buf_free(&w->body);
    ns_textset_free(&w->texts);
}

/* The number of text s in the batch, writing its record first when it is new. */
static int text_id(struct ns_batch_writer *w, const char *s, uint32_t *id)
{
    size_t len = strlen(s), n;
    uint64_t h = text_hash(s, len);
    struct ns_textset_slot *slot;
    unsigned char *p;
    if (len > RECORD_MAX) {
        return NS_ETOOBIG;
    }
    if (!(slot = ns_textset_find(&w->texts, w->out.data, s, len, h))) {
        return NS_ENOMEM;
    }
    if (slot->hash) {
        *id = slot->id;
        return NS_OK;
    }
    if (w->out.len + 11 + len > UINT32_MAX || w->texts.used >= UINT32_MAX ||
        !(p = (unsigned char *)ns_buf_space(&w->out, 11 + len + END_ROOM))) {
        return NS_ETOOBIG;
    }
    n = 1 + put_varint(p + 1, len);
    p[0] = 'S';
    memcpy(p + n, s, len);
    *id = (uint32_t)w->texts.used;
    ns_textset_put(&w->texts, slot, h, (uint32_t)(w->out.len + n), (uint32_t)len, *id);
    ns_buf_commit(&w->out, n + len);
    return NS_OK;
}

int ns_batch_put(struct ns_batch_writer *w, const struct ns_event *ev)
{
    unsigned char *p;
    size_t n = 0;
    int rc;
    if (w->out.len == 0 && (!ns_buf_space(&w->out, MAGIC_LEN + END_ROOM) ||
                            (rc = ns_buf_add(&w->out, MAGIC, MAGIC_LEN)) != NS_OK)) {
        return NS_ETOOBIG;
    }
    ns_buf_reset(&w->body);
    if (!(p = (unsigned char *)ns_buf_space(&w->body, (size_t)NS_F_COUNT * 11))) {
        return NS_ENOMEM;
    }
    for (int f = 0; f < NS_F_COUNT; f++) {
        uint32_t id;
        if (!ev->has[f]) {
            continue;
        }
        switch (ns_fields[f].kind) {
        case NS_K_TEXT:
            if ((rc = text_id(w, ev->s[f] ? ev->s[f] : "", &id)) != NS_OK) {
                return rc;
            }
            p[n++] = (unsigned char)f;
            n += put_varint(p + n, id);
            break;
        case NS_K_BOOL:
            p[n++] = (unsigned char)f;
            p[n++] = ev->i[f] ? 1 : 0;
            break;
        default: /* INT, HEX (its text follows from the value), TIME */
            p[n++] = (unsigned char)f;
            n += put_varint(p + n, zigzag(ev->i[f]));
            break;
        }
    }
    ns_buf_commit(&w->body, n);
    if (!(p = (unsigned char *)ns_buf_space(&w->out, 11 + n + END_ROOM))) {
        return NS_ETOOBIG;
    }
    {
        size_t h = 1 + put_varint(p + 1, n);
        p[0] = 'E';
        memcpy(p + h, w->body.data, n);
        ns_buf_commit(&w->out, h + n);
    }
    w->events++;
    return NS_OK;
}

int ns_batch_end(struct ns_batch_writer *w)
{
    unsigned char *p;
    int rc;
    if (w->out.len == 0 && (rc = ns_buf_add(&w->out, MAGIC, MAGIC_LEN)) != NS_OK) {
        return rc;
    }
    if (!(p = (unsigned char *)ns_buf_space(&w->out, END_ROOM))) {
        return NS_ETOOBIG;
    }
    p[0] = 'Z';
    ns_buf_commit(&w->out, 1 + put_varint(p + 1, w->events));
    return NS_OK;
}

/* ========================================================================================== */
/* Reading                                                                                     */
/* ========================================================================================== */

/* Where a text of the batch being read is, and whether it may be used. */
struct text_ref {
    size_t off;   /* offset in texts */
    uint32_t len; /* length */
    int bad;      /* 0, or 1 (not UTF-8) or 2 (holds a NUL byte) */
};

struct ns_batch {
    const char *source;    /* input name for messages */
    struct ns_sink sink;   /* where events go */
    struct ns_buf pend;    /* bytes not yet consumed */
    size_t pos;            /* read offset in pend */
    uint64_t base;         /* input offset of pend[0] */
    int in_batch;          /* 0: a magic comes next; 1: records */
    int broken;            /* a fault stopped the reading: the rest is ignored */
    struct ns_buf texts;   /* the texts of the batch, each NUL-terminated */
    struct text_ref *refs; /* by number */
    size_t nrefs, refcap;  /* used and allocated */
    uint64_t batch_events; /* events read in this batch */
    uint64_t rejects;      /* rejections made here */
    int64_t time_min;      /* the times an ISO 8601 date can write */
    int64_t time_max;
    struct ns_event ev; /* the event being read */
};

int ns_batch_new(struct ns_batch **out, const char *source, const struct ns_sink *sink)
{
    struct ns_batch *b = calloc(1, sizeof(*b));
    if (!b) {
        return NS_ENOMEM;
    }
    b->source = source;
    b->sink = *sink;
    ns_buf_init(&b->pend, RECORD_MAX + 64);
    ns_buf_init(&b->texts, (size_t)1 << 30);
    ns_event_init(&b->ev);
    /* 0000-01-01 and 9999-12-31 with a zone a day off either way: what ns_parse_time takes */
    b->time_min = (ns_days_from_civil(0, 1, 1) - 1) * 86400 * INT64_C(1000000);
    b->time_max = (ns_days_from_civil(10000, 1, 1) + 1) * 86400 * INT64_C(1000000);
    *out = b;
    return NS_OK;
}

void ns_batch_free(struct ns_batch *b)
{
    if (!b) {
        return;
    }
    ns_buf_free(&b->pend);
    ns_buf_free(&b->texts);
    free(b->refs);
    ns_event_free(&b->ev);
    free(b);
}

uint64_t ns_batch_rejects(const struct ns_batch *b)
{
    return b->rejects;
}

/* Reports a rejection at byte `at` of the input (event > 0: that event of the batch). */
static void reject(struct ns_batch *b, uint64_t at, uint64_t event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reject(struct ns_batch *b, uint64_t at, uint64_t event, const char *fmt, ...)
{
    char where[96], why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (event) {
        snprintf(where, sizeof(where), "event %llu at byte %llu", (unsigned long long)event,
                 (unsigned long long)at);
    } else {
        snprintf(where, sizeof(where), "byte %llu", (unsigned long long)at);
    }
    b->rejects++;
    if (b->sink.on_reject) {
        b->sink.on_reject(b->sink.ctx, b->source, where, why);
    }
}

/* A fault in the layout: reported, and nothing after it is read. */
#define BROKEN(b, at, ...)                                                                         \
    do {                                                                                           \
        reject(b, at, 0, __VA_ARGS__);                                                             \
        (b)->broken = 1;                                                                           \
        return NS_OK;                                                                              \
    } while (0)

/* Adds a text to the table, checking it once for every event that uses it. */
static int add_text(struct ns_batch *b, const unsigned char *s, size_t len)
{
    struct text_ref *r;
    if (b->nrefs == b->refcap) {
        size_t cap = b->refcap ? b->refcap * 2 : 1024;
        struct text_ref *n = realloc(b->refs, cap * sizeof(*n));
        if (!n) {
            return NS_ENOMEM;
        }
        b->refs = n;
        b->refcap = cap;
    }
    r = &b->refs[b->nrefs];
    r->off = b->texts.len;
    r->len = (uint32_t)len;
    r->bad = 0;
    for (size_t k = 0; k < len;) {
        uint32_t cp;
        size_t n = s[k] < 0x80 ? 1 : ns_utf8_len(s + k, len - k, &cp);
        if (!n) {
            r->bad = 1;
            break;
        }
        if (!s[k]) {
            r->bad = 2;
            break;
        }
        k += n;
    }
    if (ns_buf_add(&b->texts, s, len) != NS_OK || ns_buf_add(&b->texts, "", 1) != NS_OK) {
        return NS_ETOOBIG;
    }
    b->nrefs++;
    return NS_OK;
}

/* Reads one event record's body (at: its input offset); delivers it or rejects it. */
static int read_event(struct ns_batch *b, const unsigned char *p, size_t n, uint64_t at)
{
    struct ns_event *ev = &b->ev;
    uint64_t num = ++b->batch_events;
    size_t k = 0;
    int last = -1;
    ns_event_reset(ev);
    while (k < n) {
        int f = p[k++], got, rc = NS_OK;
        uint64_t u = 0;
        const char *name;
        if (f >= NS_F_COUNT) {
            reject(b, at, num, "unknown field number %d", f);
            return NS_OK;
        }
        name = ns_fields[f].name;
        if (f <= last) {
            reject(b, at, num, "field %s twice or out of order", name);
            return NS_OK;
        }
        last = f;
        if (ns_fields[f].kind == NS_K_BOOL) {
            if (k >= n || p[k] > 1) {
                reject(b, at, num, "field %s is not 0 or 1", name);
                return NS_OK;
            }
            rc = ns_event_set_int(ev, (enum ns_field)f, p[k++]);
        } else {
            if ((got = get_varint(p + k, n - k, &u)) <= 0) {
                reject(b, at, num, "field %s: %s", name,
                       got ? "a number longer than 64 bits" : "the event ends inside it");
                return NS_OK;
            }
            k += (size_t)got;
            if (ns_fields[f].kind == NS_K_TEXT) {
                const struct text_ref *r;
                if (u >= b->nrefs) {
                    reject(b, at, num, "field %s refers to text %llu; the batch has %zu before it",
                           name, (unsigned long long)u, b->nrefs);
                    return NS_OK;
                }
                r = &b->refs[u];
                if (r->bad) {
                    reject(b, at, num, "field %s %s", name,
                           r->bad == 1 ? "is not valid UTF-8" : "holds a NUL byte");
                    return NS_OK;
                }
                rc = ns_event_set_text(ev, (enum ns_field)f, b->texts.data + r->off, r->len);
            } else {
                int64_t v = unzigzag(u);
                if (ns_fields[f].kind == NS_K_TIME && (v < b->time_min || v > b->time_max)) {
                    reject(b, at, num, "field %s is out of the years 0000 to 9999", name);
                    return NS_OK;
                }
                rc = ns_event_set_int(ev, (enum ns_field)f, v);
            }
        }
        if (rc != NS_OK) {
            reject(b, at, num, "event too large");
            return NS_OK;
        }
    }
    for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
        if (!ev->has[required[r]]) {
            reject(b, at, num, "no %s", ns_fields[required[r]].name);
            return NS_OK;
        }
    }
    return b->sink.on_event ? b->sink.on_event(b->sink.ctx, ev) : NS_OK;
}

/* Reads every whole record in pend. Returns NS_OK or a sink's stop code. */
static int drain(struct ns_batch *b)
{
    while (!b->broken) {
        const unsigned char *p = (const unsigned char *)b->pend.data + b->pos;
        size_t left = b->pend.len - b->pos, h;
        uint64_t at = b->base + b->pos, u = 0;
        int got, rc;
        if (!left) {
            return NS_OK;
        }
        if (!b->in_batch) {
            size_t cmp = left < MAGIC_LEN ? left : MAGIC_LEN;
            if (memcmp(p, MAGIC, cmp)) {
                BROKEN(b, at, "not the start of an ntlmscope batch (\"%s\")", MAGIC);
            }
            if (left < MAGIC_LEN) {
                return NS_OK;
            }
            b->pos += MAGIC_LEN;
            b->in_batch = 1;
            b->nrefs = 0;
            b->batch_events = 0;
            ns_buf_reset(&b->texts);
            continue;
        }
        if (p[0] != 'S' && p[0] != 'E' && p[0] != 'Z') {
            BROKEN(b, at, "unknown record type 0x%02x", p[0]);
        }
        if ((got = get_varint(p + 1, left - 1, &u)) < 0) {
            BROKEN(b, at, "a record's length is longer than 64 bits");
        }
        if (!got) {
            return NS_OK; /* the rest comes with the next bytes */
        }
        h = 1 + (size_t)got;
        if (p[0] == 'Z') {
            if (u != b->batch_events) {
                BROKEN(b, at, "the batch ends saying %llu events; %llu came", (unsigned long long)u,
                       (unsigned long long)b->batch_events);
            }
            b->pos += h;
            b->in_batch = 0;
            continue;
        }
        if (u > RECORD_MAX) {
            BROKEN(b, at, "a record of %llu bytes (at most %llu)", (unsigned long long)u,
                   (unsigned long long)RECORD_MAX);
        }
        if (left - h < u) {
            return NS_OK;
        }
        if (p[0] == 'S') {
            if ((rc = add_text(b, p + h, (size_t)u)) != NS_OK) {
                BROKEN(b, at, "%s", rc == NS_ENOMEM ? "out of memory" : "too many texts");
            }
        } else if ((rc = read_event(b, p + h, (size_t)u, at)) != NS_OK) {
            b->pos += h + (size_t)u;
            return rc;
        }
        b->pos += h + (size_t)u;
    }
    return NS_OK;
}

int ns_batch_feed(struct ns_batch *b, const char *data, size_t len)
{
    int rc;
    if (b->broken) {
        return NS_OK;
    }
    if (b->pos) { /* keep only what is not read yet */
        b->base += b->pos;
        ns_buf_consume(&b->pend, b->pos);
        b->pos = 0;
    }
    while (len) {
        /* a whole record in what came needs no copy; the rest waits in pend */
        size_t take = len;
        if (b->pend.len == 0) {
            struct ns_buf view = {(char *)data, len, len, len};
            struct ns_buf keep = b->pend;
            b->pend = view;
            rc = drain(b);
            b->pend = keep;
            b->base += b->pos;
            data += b->pos;
            len -= b->pos;
            b->pos = 0;
            if (rc != NS_OK || b->broken) {
                return rc;
            }
            if (ns_buf_add(&b->pend, data, len) != NS_OK) {
                BROKEN(b, b->base, "a record larger than the reader holds");
            }
            return NS_OK;
        }
        if (take > b->pend.max - b->pend.len) {
            take = b->pend.max - b->pend.len; /* room for the record begun: it ends in there */
        }
        if (ns_buf_add(&b->pend, data, take) != NS_OK) {
            BROKEN(b, b->base, "a record larger than the reader holds");
        }
        data += take;
        len -= take;
        if ((rc = drain(b)) != NS_OK || b->broken) {
            return rc;
        }
        b->base += b->pos;
        ns_buf_consume(&b->pend, b->pos);
        b->pos = 0;
    }
    return NS_OK;
}

int ns_batch_finish(struct ns_batch *b)
{
    if (b->broken) {
        return NS_OK;
    }
    if (b->pend.len > b->pos) {
        reject(b, b->base + b->pos, 0, "truncated: the input ends inside a record");
    } else if (b->in_batch) {
        reject(b, b->base + b->pos, 0,
               "truncated: the input ends before the batch's end record (%llu events read)",
               (unsigned long long)b->batch_events);
    }
    b->broken = 1;
    return NS_OK;
}
