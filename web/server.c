/*
 * server.c - `ntlmscope serve`: ingest API, views, health and metrics over libmicrohttpd.
 *
 * One writer connection, behind a mutex, stores each POSTed batch in one transaction and
 * the answer is sent only after the commit, so an answer means durable; a malformed batch
 * is rolled back whole. Reads use a small pool of read-only connections (SQLite WAL: they
 * are never blocked by ingest). Limits are set at start-up; SIGTERM stops accepting, lets
 * the batches in flight finish and exits.
 */
#include "ns_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <libdeflate.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "ns_assets.h"
#include "ns_report.h"

#define READERS 4          /* read-only connections kept open */
#define REJECTS_LISTED 100 /* rejected events listed in one answer */
#define RATE_SLOTS 1024    /* addresses tracked by the rate limiter */
#define LATENCY_BUCKETS 9  /* ingest latency histogram */

static const double latency_bounds[LATENCY_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1,
                                                       0.25,  0.5,  1.0,   5.0};

void ns_server_config_init(struct ns_server_config *c)
{
    memset(c, 0, sizeof(*c));
    c->listen = "127.0.0.1:8080";
    c->max_body = (size_t)32 << 20;
    c->max_inflated = (size_t)256 << 20;
    c->max_connections = 256;
    c->per_ip_connections = 32;
    c->timeout = 60;
    c->max_inflight = 16;
    c->rate_per_ip = 100;
    c->lock_wait = 30;
}

/* ========================================================================================== */
/* Server state                                                                                */
/* ========================================================================================== */

/* Requests per second of one address. */
struct rate_slot {
    char addr[64];  /* the address */
    time_t second;  /* the second counted */
    unsigned count; /* requests in that second */
};

/* A parsed batch waiting to be stored: batches that wait together are stored in one
 * transaction by the first of them to get the writer (group commit), each answered after
 * that COMMIT. */
struct pending {
    struct ns_ingest *in; /* its events, held */
    const char *agent;    /* its agent */
    const char *addr;     /* its client address */
    unsigned status;      /* 200, or 503 when the group could not be stored */
    char err[256];        /* why not */
    int done;             /* the group's transaction ended */
    struct pending *next; /* the next waiting batch */
};

#define GROUP_MAX 16 /* batches stored in one transaction at most */
/* A group's leader waits this long at most for batches still being parsed: each commit
 * writes the rollups of its batches, so one commit of four batches costs less than four
 * (4 agents on loopback: groups of 1-3 batches, mostly 1, before). */
#define GROUP_WAIT_NS 10000000L

struct server {
    const struct ns_server_config *cfg;                /* configuration */
    struct MHD_Daemon *daemon;                         /* libmicrohttpd */
    pthread_mutex_t writer_lock;                       /* one transaction at a time */
    pthread_mutex_t group_lock;                        /* guards queue and leading */
    pthread_cond_t group_done;                         /* a group's transaction ended */
    pthread_cond_t group_more;                         /* a batch joined the queue */
    int parsing;                                       /* batches being parsed */
    struct pending *queue;                             /* batches waiting to be stored */
    int leading;                                       /* a request is storing a group */
    struct ns_store *writer;                           /* the writing connection */
    pthread_mutex_t readers_lock;                      /* guards readers[] */
    struct ns_store *readers[READERS];                 /* idle read-only connections */
    int nreaders;                                      /* how many are in readers[] */
    pthread_mutex_t stats_lock;                        /* guards everything below */
    unsigned inflight;                                 /* ingest requests being handled */
    uint64_t accepted, duplicates, skipped, rejected;  /* events */
    uint64_t batches_ok, batches_bad, batches_refused; /* batches by outcome */
    uint64_t latency_count[LATENCY_BUCKETS + 1];       /* ingest latency histogram */
    double latency_sum;                                /* seconds */
    uint64_t latency_n;                                /* observations */
    struct rate_slot rate[RATE_SLOTS];                 /* rate limiter */
    time_t started;                                    /* start time */
    pthread_t scheduler;                               /* sends the weekly summary */
    int scheduler_running;                             /* the thread was started */
    pthread_mutex_t stop_lock;                         /* guards stopping, with stop_cond */
    pthread_cond_t stop_cond;                          /* wakes the scheduler to stop */
    int stopping;                                      /* the server is shutting down */
};

/* Per-request context, freed in the completed callback. */
struct request {
    int route;            /* index into routes[] */
    struct ns_buf body;   /* request body, capped */
    int too_big;          /* the body passed the cap */
    int answered;         /* the response was queued */
    unsigned refuse;      /* a refusal decided before the body was read (status), or 0 */
    char refuse_msg[96];  /* its message */
    const char *refuse_h; /* an extra header name for it, or NULL */
    const char *refuse_v; /* its value */
    uint64_t drained;     /* body bytes read and dropped since the refusal */
    int counted;          /* counted in inflight */
    char agent[80];       /* authenticated agent */
    double t0;            /* start, seconds */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void client_addr(struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, n, "?");
    if (!ci || !ci->client_addr) {
        return;
    }
    if (ci->client_addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, out,
                  (socklen_t)n);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, out,
                  (socklen_t)n);
    }
}

/* A read-only connection from the pool (opened on demand); NULL when the database cannot
 * be opened (err says why). Give it back with reader_put(). */
static struct ns_store *reader_get(struct server *s, char *err, size_t errlen)
{
    struct ns_store *st = NULL;
    pthread_mutex_lock(&s->readers_lock);
    if (s->nreaders > 0) {
        st = s->readers[--s->nreaders];
    }
    pthread_mutex_unlock(&s->readers_lock);
    if (!st && ns_store_open_readonly(&st, s->cfg->db, err, errlen) != NS_OK) {
        return NULL;
    }
    return st;
}

static void reader_put(struct server *s, struct ns_store *st)
{
    pthread_mutex_lock(&s->readers_lock);
    if (s->nreaders < READERS) {
        s->readers[s->nreaders++] = st;
        st = NULL;
    }
    pthread_mutex_unlock(&s->readers_lock);
    ns_store_close(st);
}

/* 1 when addr went over the per-second request limit. */
static int rate_limited(struct server *s, const char *addr)
{
    uint32_t h = 2166136261u;
    struct rate_slot *slot;
    time_t now = time(NULL);
    int over;
    if (!s->cfg->rate_per_ip) {
        return 0;
    }
    for (const char *p = addr; *p; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
    }
    pthread_mutex_lock(&s->stats_lock);
    slot = &s->rate[h % RATE_SLOTS];
    if (strcmp(slot->addr, addr) || slot->second != now) {
        snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
        slot->second = now;
        slot->count = 0;
    }
    over = ++slot->count > s->cfg->rate_per_ip;
    pthread_mutex_unlock(&s->stats_lock);
    return over;
}

/* ========================================================================================== */
/* Responses                                                                                   */
/* ========================================================================================== */

/* Headers on every response: the dashboard runs only its own script and styles, loads
 * nothing from elsewhere and cannot be framed. */
static const char *const security_headers[] = {
    "Content-Security-Policy",
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options",
    "nosniff",
    "X-Frame-Options",
    "DENY",
    "Referrer-Policy",
    "no-referrer",
    "Cross-Origin-Opener-Policy",
    "same-origin",
    "Cross-Origin-Resource-Policy",
    "same-origin",
    "Permissions-Policy",
    "camera=(), microphone=(), geolocation=()",
    NULL};

/* Queues a response. extra: NULL-terminated name/value pairs (NULL values skipped). static_body:
 * the body outlives the response (compiled-in assets), so it is not copied. */
static enum MHD_Result send_response(struct MHD_Connection *conn, unsigned status, const char *type,
                                     const void *body, size_t len, int static_body,
                                     const char *const *extra)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)body, static_body ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    if (!r) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    for (int k = 0; security_headers[k]; k += 2) {
        MHD_add_response_header(r, security_headers[k], security_headers[k + 1]);
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                            static_body ? "no-cache" : "no-store");
    for (int k = 0; extra && extra[k]; k += 2) {
        if (extra[k + 1]) {
            MHD_add_response_header(r, extra[k], extra[k + 1]);
        }
    }
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_buf(struct MHD_Connection *conn, unsigned status, const char *type,
                                const char *body, size_t len, const char *hname, const char *hvalue)
{
    const char *extra[] = {hname, hvalue, NULL};
    return send_response(conn, status, type, body, len, 0, hname ? extra : NULL);
}

/* Sends a JSON object and releases it. */
static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, json_t *obj,
                                 const char *hname, const char *hvalue)
{
    char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    enum MHD_Result ret;
    json_decref(obj);
    if (!text) {
        return send_buf(conn, 500, "application/json", "{\"error\":\"out of memory\"}", 25, NULL,
                        NULL);
    }
    ret = send_buf(conn, status, "application/json", text, strlen(text), hname, hvalue);
    free(text);
    return ret;
}

/* Sends {"error": message} with a status. */
static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *message,
                                  const char *hname, const char *hvalue)
{
    return send_json(conn, status, json_pack("{ss}", "error", message), hname, hvalue);
}

/* ========================================================================================== */
/* POST /api/v1/events                                                                         */
/* ========================================================================================== */

/* Rejected events of a batch, for the answer. */
struct reject_list {
    json_t *items; /* [{"where":..., "why":...}] */
    uint64_t more; /* rejections not listed */
};

static void collect_reject(void *ctx, const char *source, const char *where, const char *why)
{
    struct reject_list *rl = ctx;
    (void)source;
    if (json_array_size(rl->items) < REJECTS_LISTED) {
        json_array_append_new(rl->items, json_pack("{ssss}", "where", where, "why", why));
    } else {
        rl->more++;
    }
}

/* gunzip through zlib, streaming: every member, at most cap bytes. */
static int gunzip_zlib(const struct ns_buf *in, struct ns_buf *out, size_t cap);

/* Inflates a gzip body into out (initialized here, at most cap bytes): NS_ETOOBIG past cap,
 * NS_EPARSE when corrupt or truncated. A body of one gzip member, as agents send, is inflated
 * by libdeflate in one call into the size its trailer gives (about twice zlib's speed);
 * anything else (several members, a trailer that wrapped past 4 GiB) by zlib. */
static int gunzip(const struct ns_buf *in, struct ns_buf *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)in->data;
    struct libdeflate_decompressor *d;
    enum libdeflate_result r = LIBDEFLATE_BAD_DATA;
    size_t isize, used = 0, got = 0;
    char *room;
    if (in->len < 18) {
        return gunzip_zlib(in, out, cap);
    }
    /* ISIZE: the member's size modulo 2^32, never more than its real size */
    isize = (size_t)p[in->len - 4] | (size_t)p[in->len - 3] << 8 | (size_t)p[in->len - 2] << 16 |
            (size_t)p[in->len - 1] << 24;
    if (isize > cap) { /* too big, or not a size (a truncated body): zlib tells which */
        return gunzip_zlib(in, out, cap);
    }
    ns_buf_init(out, cap);
    if (!(d = libdeflate_alloc_decompressor())) {
        return NS_ENOMEM;
    }
    if ((room = ns_buf_space(out, isize)) != NULL) {
        r = libdeflate_gzip_decompress_ex(d, in->data, in->len, room, isize, &used, &got);
    }
    libdeflate_free_decompressor(d);
    if (!room) {
        return NS_ENOMEM;
    }
    if (r == LIBDEFLATE_SUCCESS && used == in->len && got == isize) {
        ns_buf_commit(out, got);
        return NS_OK;
    }
    if (r == LIBDEFLATE_BAD_DATA) {
        return NS_EPARSE;
    }
    ns_buf_free(out);
    return gunzip_zlib(in, out, cap);
}

static int gunzip_zlib(const struct ns_buf *in, struct ns_buf *out, size_t cap)
{
    z_stream zs;
    unsigned char chunk[65536];
    int zr = Z_OK, rc = NS_OK;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        return NS_ENOMEM;
    }
    zs.next_in = (unsigned char *)in->data;
    zs.avail_in = (uInt)in->len;
    ns_buf_init(out, cap);
    while (zr != Z_STREAM_END && rc == NS_OK) {
        zs.next_out = chunk;
        zs.avail_out = sizeof(chunk);
        zr = inflate(&zs, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END) {
            rc = NS_EPARSE;
            break;
        }
        rc = ns_buf_add(out, chunk, sizeof(chunk) - zs.avail_out);
        if (zr == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
            rc = NS_EPARSE; /* the stream ends early */
        }
        /* members one after the other (gzip -c a b) are one body, as gzip reads them;
         * bytes after the last member that start no other are ignored, as gzip does */
        if (zr == Z_STREAM_END && rc == NS_OK && zs.avail_in >= 2 && zs.next_in[0] == 0x1f &&
            zs.next_in[1] == 0x8b) {
            if (inflateReset(&zs) != Z_OK) {
                rc = NS_ENOMEM;
            }
            zr = Z_OK;
        }
    }
    inflateEnd(&zs);
    return rc;
}

/* Parses an EVTX body: libevtx needs a file. */
static int parse_evtx_body(const struct ns_buf *body, const struct ns_sink *sink, char *err,
                           size_t errlen)
{
    char path[] = "/tmp/ntlmscope-evtx-XXXXXX";
    int fd = mkstemp(path), rc;
    size_t done = 0;
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
        return NS_EIO;
    }
    while (done < body->len) {
        ssize_t n = write(fd, body->data + done, body->len - done);
        if (n <= 0) {
            close(fd);
            unlink(path);
            snprintf(err, errlen, "cannot write a temporary file: %s", strerror(errno));
            return NS_EIO;
        }
        done += (size_t)n;
    }
    close(fd);
    rc = ns_parse_evtx_file(path, "batch", sink, NULL, NULL, err, errlen);
    unlink(path);
    return rc;
}

static void observe_latency(struct server *s, double secs)
{
    int b = 0;
    while (b < LATENCY_BUCKETS && secs > latency_bounds[b]) {
        b++;
    }
    s->latency_count[b]++;
    s->latency_sum += secs;
    s->latency_n++;
}

/* Stores a group of parsed batches in one transaction (the writer is held); sets each one's
 * status. One failure fails the group: nothing of it is stored and every batch gets 503. */
static void store_group(struct server *s, struct pending *group)
{
    struct pending *p;
    int rc = NS_OK;
    const char *why = NULL;
    for (p = group; p && rc == NS_OK; p = p->next) {
        ns_store_set_agent(s->writer, p->agent);
        if ((rc = ns_ingest_store_held(p->in)) == NS_OK) {
            rc = ns_agent_seen(s->writer, p->agent, p->addr, now_us(), p->in->n.stored,
                               p->in->n.duplicates);
        }
    }
    ns_store_set_agent(s->writer, NULL);
    if (rc == NS_OK) {
        rc = ns_store_commit(s->writer);
    }
    if (rc != NS_OK) {
        why = ns_store_errmsg(s->writer);
        ns_store_rollback(s->writer);
    }
    for (p = group; p; p = p->next) {
        p->status = rc == NS_OK ? 200 : 503;
        snprintf(p->err, sizeof(p->err), "%s", why ? why : "");
        if (rc != NS_OK) {
            p->in->n.stored = p->in->n.duplicates = 0; /* rolled back: nothing of it stayed */
        }
    }
}

/* Counts a batch into or out of the parsing ones (store_batch counts it out as it queues). */
static void parsing(struct server *s, int delta)
{
    pthread_mutex_lock(&s->group_lock);
    s->parsing += delta;
    pthread_cond_broadcast(&s->group_more);
    pthread_mutex_unlock(&s->group_lock);
}

/* Waits for the batch to be stored with whichever others wait: the first to find no group
 * being stored stores the waiting ones (up to GROUP_MAX) under the writer lock. */
static void store_batch(struct server *s, struct pending *me)
{
    pthread_mutex_lock(&s->group_lock);
    me->next = s->queue;
    s->queue = me;
    s->parsing--; /* parsed: now queued */
    pthread_cond_broadcast(&s->group_more);
    while (!me->done) {
        struct pending *group, *p, **cut;
        struct timespec until;
        int n = 0;
        if (s->leading) {
            pthread_cond_wait(&s->group_done, &s->group_lock);
            continue;
        }
        /* lead: wait a little for the batches being parsed, then take the oldest GROUP_MAX
         * (the queue is newest first) */
        s->leading = 1;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += GROUP_WAIT_NS;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        for (;;) {
            n = 0;
            for (p = s->queue; p; p = p->next) {
                n++;
            }
            if (s->parsing <= 0 || n >= GROUP_MAX ||
                pthread_cond_timedwait(&s->group_more, &s->group_lock, &until) == ETIMEDOUT) {
                break;
            }
        }
        n = 0;
        for (cut = &s->queue; *cut; cut = &(*cut)->next) {
            n++;
        }
        cut = &s->queue;
        while (n > GROUP_MAX) {
            cut = &(*cut)->next;
            n--;
        }
        group = *cut;
        *cut = NULL;
        pthread_mutex_unlock(&s->group_lock);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += s->cfg->lock_wait;
        if (pthread_mutex_timedlock(&s->writer_lock, &until) != 0) {
            for (p = group; p; p = p->next) {
                p->status = 503;
                snprintf(p->err, sizeof(p->err), "the database is busy: retry later");
            }
        } else {
            store_group(s, group);
            pthread_mutex_unlock(&s->writer_lock);
        }
        pthread_mutex_lock(&s->group_lock);
        for (p = group; p; p = p->next) {
            p->done = 1;
        }
        s->leading = 0;
        pthread_cond_broadcast(&s->group_done);
    }
    pthread_mutex_unlock(&s->group_lock);
}

/* Stores the body of an authenticated batch and answers. */
static enum MHD_Result ingest(struct server *s, struct MHD_Connection *conn, struct request *rq)
{
    const char *enc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Encoding");
    struct ns_buf inflated, *body = &rq->body;
    struct reject_list rl = {json_array(), 0};
    struct ns_ingest in;
    struct ns_sink sink;
    struct pending me;
    char addr[64], err[512] = "";
    int rc = NS_OK, malformed = 0;
    unsigned status = 200;
    enum MHD_Result ret;
    const char *errmsg = NULL;

    client_addr(conn, addr, sizeof(addr));
    ns_buf_init(&inflated, 0);
    if (rq->too_big) {
        status = 413;
        errmsg = "batch larger than max_body";
        goto answer_error;
    }
    if (enc && *enc && strcasecmp(enc, "identity")) {
        if (strcasecmp(enc, "gzip")) {
            status = 415;
            errmsg = "Content-Encoding must be gzip or identity";
            goto answer_error;
        }
        rc = gunzip(&rq->body, &inflated, s->cfg->max_inflated);
        if (rc == NS_ETOOBIG) {
            status = 413;
            errmsg = "batch larger than max_inflated once decompressed";
            goto answer_error;
        }
        if (rc != NS_OK) {
            status = 400;
            errmsg = "the gzip body is corrupt or truncated";
            goto answer_error;
        }
        body = &inflated;
    }
    if (body->len == 0) {
        status = 400;
        errmsg = "empty batch";
        goto answer_error;
    }
    /* parse first, without the writer: concurrent batches parse on every core, and a
     * malformed one never touches the database */
    ns_ingest_init(&in, s->writer, collect_reject, &rl);
    if (ns_ingest_hold(&in) != NS_OK) {
        status = 503;
        errmsg = "out of memory: retry later";
        goto answer_error;
    }
    parsing(s, 1);
    sink = ns_ingest_sink(&in);
    if (body->len >= 8 && !memcmp(body->data, "ElfFile", 8)) {
        rc = parse_evtx_body(body, &sink, err, sizeof(err));
        malformed = rc == NS_EPARSE || rc == NS_EIO;
    } else {
        struct ns_parser *p = NULL;
        rc = ns_parser_new(&p, NS_FMT_AUTO, "batch", &sink);
        if (rc == NS_OK) {
            rc = ns_parser_feed(p, body->data, body->len);
        }
        if (rc == NS_OK) {
            rc = ns_parser_finish(p);
        }
        malformed = p && ns_parser_rejects(p) > 0;
        ns_parser_free(p);
    }
    if (in.db_rc != NS_OK || (rc != NS_OK && !malformed)) {
        snprintf(err, sizeof(err), "%s", ns_rc_str(in.db_rc != NS_OK ? in.db_rc : rc));
        ns_ingest_drop_held(&in);
        parsing(s, -1);
        status = in.db_rc != NS_OK ? 503 : 500;
        goto answer;
    }
    if (malformed) {
        ns_ingest_drop_held(&in);
        parsing(s, -1);
        status = 400;
        goto answer;
    }
    /* then store it, in one transaction with the batches that wait at the same time */
    memset(&me, 0, sizeof(me));
    me.in = &in;
    me.agent = rq->agent;
    me.addr = addr;
    store_batch(s, &me);
    status = me.status;
    if (me.err[0]) {
        snprintf(err, sizeof(err), "%s", me.err);
    }
    ns_ingest_drop_held(&in);

answer:
    pthread_mutex_lock(&s->stats_lock);
    if (status == 200) {
        s->accepted += in.n.stored;
        s->duplicates += in.n.duplicates;
        s->skipped += in.n.skipped;
        s->rejected += in.n.rejected;
        s->batches_ok++;
        observe_latency(s, now_s() - rq->t0);
    } else {
        s->batches_bad++;
    }
    pthread_mutex_unlock(&s->stats_lock);

    fprintf(stderr,
            "ntlmscope serve: POST /api/v1/events agent=%s from=%s status=%u bytes=%zu "
            "accepted=%llu duplicates=%llu skipped=%llu rejected=%llu ms=%.1f%s%s\n",
            rq->agent, addr, status, rq->body.len, (unsigned long long)in.n.stored,
            (unsigned long long)in.n.duplicates, (unsigned long long)in.n.skipped,
            (unsigned long long)in.n.rejected, (now_s() - rq->t0) * 1000, err[0] ? " error=" : "",
            err);
    ns_buf_free(&inflated);
    if (status == 200) {
        return send_json(conn, 200,
                         json_pack("{sI sI sI so sI}", "accepted", (json_int_t)in.n.stored,
                                   "duplicates", (json_int_t)in.n.duplicates, "skipped",
                                   (json_int_t)in.n.skipped, "rejected", rl.items,
                                   "rejected_not_listed", (json_int_t)rl.more),
                         NULL, NULL);
    }
    if (status == 400) {
        ret = send_json(conn, 400,
                        json_pack("{ss so sI}", "error",
                                  err[0] ? err : "malformed batch: nothing of it was stored",
                                  "rejected", rl.items, "rejected_not_listed", (json_int_t)rl.more),
                        NULL, NULL);
        return ret;
    }
    json_decref(rl.items);
    return send_error(conn, status, err[0] ? err : "internal error",
                      status == 503 ? MHD_HTTP_HEADER_RETRY_AFTER : NULL, "5");

answer_error:
    json_decref(rl.items);
    ns_buf_free(&inflated);
    pthread_mutex_lock(&s->stats_lock);
    s->batches_bad++;
    pthread_mutex_unlock(&s->stats_lock);
    fprintf(stderr, "ntlmscope serve: POST /api/v1/events agent=%s from=%s status=%u error=%s\n",
            rq->agent, addr, status, errmsg);
    return send_error(conn, status, errmsg, status == 503 ? MHD_HTTP_HEADER_RETRY_AFTER : NULL,
                      "5");
}

/* Records a refusal: the body is read and dropped (up to a cap), then it is answered, so
 * that clients which send the whole body before reading get the answer. */
static void refuse(struct request *rq, unsigned status, const char *msg, const char *hname,
                   const char *hvalue)
{
    rq->refuse = status;
    snprintf(rq->refuse_msg, sizeof(rq->refuse_msg), "%s", msg);
    rq->refuse_h = hname;
    rq->refuse_v = hvalue;
}

/* The first call of a POST: authenticate and apply the limits before reading the body.
 * Returns 1 when the request is refused (see refuse()). */
static int ingest_begin(struct server *s, struct MHD_Connection *conn, struct request *rq)
{
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    const char *clen = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    char addr[64], err[256];
    struct ns_store *rd;
    int64_t len;
    int rc;
    client_addr(conn, addr, sizeof(addr));
    if (rate_limited(s, addr)) {
        refuse(rq, 429, "too many requests from this address", MHD_HTTP_HEADER_RETRY_AFTER, "1");
        return 1;
    }
    if (!auth || strncasecmp(auth, "Bearer ", 7) || !auth[7]) {
        fprintf(stderr, "ntlmscope serve: POST /api/v1/events from=%s status=401 error=no token\n",
                addr);
        refuse(rq, 401, "a bearer token is required", "WWW-Authenticate",
               "Bearer realm=\"ntlmscope\"");
        return 1;
    }
    if (!(rd = reader_get(s, err, sizeof(err)))) {
        fprintf(stderr, "ntlmscope serve: %s\n", err);
        refuse(rq, 503, "the database cannot be read", MHD_HTTP_HEADER_RETRY_AFTER, "5");
        return 1;
    }
    rc = ns_token_check(rd, auth + 7, rq->agent, sizeof(rq->agent));
    reader_put(s, rd);
    if (rc != NS_OK) {
        fprintf(stderr,
                "ntlmscope serve: POST /api/v1/events from=%s status=401 error=invalid or "
                "revoked token\n",
                addr);
        refuse(rq, 401, "invalid or revoked token", "WWW-Authenticate",
               "Bearer realm=\"ntlmscope\", error=\"invalid_token\"");
        return 1;
    }
    if (clen && ns_parse_int(clen, &len) == NS_OK && (uint64_t)len > s->cfg->max_body) {
        refuse(rq, 413, "batch larger than max_body", NULL, NULL);
        return 1;
    }
    pthread_mutex_lock(&s->stats_lock);
    if (s->inflight >= s->cfg->max_inflight) {
        s->batches_refused++;
        pthread_mutex_unlock(&s->stats_lock);
        refuse(rq, 503, "too many batches in flight: retry later", MHD_HTTP_HEADER_RETRY_AFTER,
               "2");
        return 1;
    }
    s->inflight++;
    rq->counted = 1;
    pthread_mutex_unlock(&s->stats_lock);
    return 0;
}

/* ========================================================================================== */
/* GET routes                                                                                  */
/* ========================================================================================== */

static enum MHD_Result get_health(struct server *s, struct MHD_Connection *conn, struct request *rq)
{
    char err[256];
    struct ns_store *rd = reader_get(s, err, sizeof(err));
    (void)rq;
    if (!rd) {
        return send_json(conn, 503, json_pack("{ssss}", "status", "error", "error", err), NULL,
                         NULL);
    }
    reader_put(s, rd);
    return send_json(conn, 200,
                     json_pack("{sssisI}", "status", "ok", "schema_version", NS_SCHEMA_VERSION,
                               "uptime_seconds", (json_int_t)(time(NULL) - s->started)),
                     NULL, NULL);
}

/* Escapes a Prometheus label value (backslash, quote, newline). */
static int put_label(struct ns_buf *b, const char *v)
{
    int rc = NS_OK;
    for (; *v && rc == NS_OK; v++) {
        if (*v == '\\' || *v == '"') {
            char e[2] = {'\\', *v};
            rc = ns_buf_add(b, e, 2);
        } else if (*v == '\n') {
            rc = ns_buf_adds(b, "\\n");
        } else {
            rc = ns_buf_add(b, v, 1);
        }
    }
    return rc;
}

static int metric_agent(void *ctx, const struct ns_agent_info *a)
{
    struct ns_buf *b = ctx;
    int rc = ns_buf_adds(b, "ntlmscope_agent_last_seen_seconds{agent=\"");
    if (rc == NS_OK) {
        rc = put_label(b, a->name);
    }
    if (rc == NS_OK) {
        rc = ns_buf_printf(b, "\"} %.3f\n", a->last_seen / 1e6);
    }
    if (rc == NS_OK) {
        rc = ns_buf_adds(b, "ntlmscope_agent_events_total{agent=\"");
    }
    if (rc == NS_OK) {
        rc = put_label(b, a->name);
    }
    if (rc == NS_OK) {
        rc = ns_buf_printf(b, "\"} %lld\n", (long long)a->events);
    }
    return rc;
}

static enum MHD_Result get_metrics(struct server *s, struct MHD_Connection *conn,
                                   struct request *rq)
{
    struct ns_buf b;
    struct ns_store *rd;
    char err[256];
    uint64_t cum = 0;
    enum MHD_Result ret;
    (void)rq;
    ns_buf_init(&b, 4u << 20);
    pthread_mutex_lock(&s->stats_lock);
    ns_buf_printf(&b,
                  "# HELP ntlmscope_events_accepted_total New NTLM events stored.\n"
                  "# TYPE ntlmscope_events_accepted_total counter\n"
                  "ntlmscope_events_accepted_total %llu\n"
                  "# HELP ntlmscope_events_duplicate_total Events received that were stored "
                  "already.\n"
                  "# TYPE ntlmscope_events_duplicate_total counter\n"
                  "ntlmscope_events_duplicate_total %llu\n"
                  "# HELP ntlmscope_events_skipped_total Events of other logs.\n"
                  "# TYPE ntlmscope_events_skipped_total counter\n"
                  "ntlmscope_events_skipped_total %llu\n"
                  "# HELP ntlmscope_events_rejected_total Events that could not be stored.\n"
                  "# TYPE ntlmscope_events_rejected_total counter\n"
                  "ntlmscope_events_rejected_total %llu\n"
                  "# HELP ntlmscope_batches_total Batches by outcome.\n"
                  "# TYPE ntlmscope_batches_total counter\n"
                  "ntlmscope_batches_total{outcome=\"stored\"} %llu\n"
                  "ntlmscope_batches_total{outcome=\"failed\"} %llu\n"
                  "ntlmscope_batches_total{outcome=\"refused\"} %llu\n"
                  "# HELP ntlmscope_ingest_in_flight Batches being stored now.\n"
                  "# TYPE ntlmscope_ingest_in_flight gauge\n"
                  "ntlmscope_ingest_in_flight %u\n"
                  "# HELP ntlmscope_ingest_duration_seconds Time to store a batch.\n"
                  "# TYPE ntlmscope_ingest_duration_seconds histogram\n",
                  (unsigned long long)s->accepted, (unsigned long long)s->duplicates,
                  (unsigned long long)s->skipped, (unsigned long long)s->rejected,
                  (unsigned long long)s->batches_ok, (unsigned long long)s->batches_bad,
                  (unsigned long long)s->batches_refused, s->inflight);
    for (int k = 0; k < LATENCY_BUCKETS; k++) {
        cum += s->latency_count[k];
        ns_buf_printf(&b, "ntlmscope_ingest_duration_seconds_bucket{le=\"%g\"} %llu\n",
                      latency_bounds[k], (unsigned long long)cum);
    }
    cum += s->latency_count[LATENCY_BUCKETS];
    ns_buf_printf(&b,
                  "ntlmscope_ingest_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                  "ntlmscope_ingest_duration_seconds_sum %.6f\n"
                  "ntlmscope_ingest_duration_seconds_count %llu\n",
                  (unsigned long long)cum, s->latency_sum, (unsigned long long)s->latency_n);
    pthread_mutex_unlock(&s->stats_lock);
    ns_buf_adds(&b, "# HELP ntlmscope_agent_last_seen_seconds When each agent last delivered "
                    "a batch (Unix time).\n"
                    "# TYPE ntlmscope_agent_last_seen_seconds gauge\n"
                    "# HELP ntlmscope_agent_events_total New events each agent delivered.\n"
                    "# TYPE ntlmscope_agent_events_total counter\n");
    if ((rd = reader_get(s, err, sizeof(err))) != NULL) {
        ns_agent_list(rd, metric_agent, &b);
        reader_put(s, rd);
    }
    ret = send_buf(conn, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "",
                   b.len, NULL, NULL);
    ns_buf_free(&b);
    return ret;
}

static enum MHD_Result get_view(struct server *s, struct MHD_Connection *conn, struct request *rq,
                                const char *url)
{
    const char *name = url + strlen("/api/v1/views/");
    const char *since = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since");
    const char *until = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "until");
    const char *limit = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "limit");
    const char *format = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "format");
    const char *offset = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "offset");
    const char *dir = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "dir");
    char total_text[32];
    int64_t total;
    struct ns_view_params p;
    struct ns_store *rd;
    char err[256], *out = NULL, disp[128];
    size_t len = 0;
    FILE *mem;
    int csv, rc;
    enum MHD_Result ret;
    (void)rq;
    if (!ns_store_view_exists(name)) {
        return send_error(conn, 404, "no such view", NULL, NULL);
    }
    ns_view_params_init(&p);
    if ((since && ns_parse_date(since, &p.since_day) != NS_OK) ||
        (until && ns_parse_date(until, &p.until_day) != NS_OK)) {
        return send_error(conn, 400, "since and until are dates YYYY-MM-DD", NULL, NULL);
    }
    if (limit && (ns_parse_int(limit, &p.limit) != NS_OK || p.limit < 0)) {
        return send_error(conn, 400, "limit is a whole number", NULL, NULL);
    }
    if (offset && (ns_parse_int(offset, &p.offset) != NS_OK || p.offset < 0)) {
        return send_error(conn, 400, "offset is a whole number", NULL, NULL);
    }
    if (format && strcmp(format, "json") && strcmp(format, "csv")) {
        return send_error(conn, 400, "format is json or csv", NULL, NULL);
    }
    if (dir && strcmp(dir, "asc") && strcmp(dir, "desc")) {
        return send_error(conn, 400, "dir is asc or desc", NULL, NULL);
    }
    p.desc = dir && !strcmp(dir, "desc");
    p.sort = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "sort");
    p.q = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "q");
    for (int f = 0; f < NS_Q_COUNT; f++) {
        p.filter[f] = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, ns_filter_names[f]);
    }
    csv = format && !strcmp(format, "csv");
    if (!(rd = reader_get(s, err, sizeof(err)))) {
        return send_error(conn, 503, err, MHD_HTTP_HEADER_RETRY_AFTER, "5");
    }
    if (!(mem = open_memstream(&out, &len))) {
        reader_put(s, rd);
        return send_error(conn, 500, "out of memory", NULL, NULL);
    }
    rc = ns_report_render(rd, name, &p, csv ? NS_REP_CSV : NS_REP_JSON, mem);
    if (rc != NS_OK) {
        snprintf(err, sizeof(err), "%s", ns_store_errmsg(rd));
    }
    total = ns_store_last_total(rd);
    reader_put(s, rd);
    fclose(mem);
    if (rc != NS_OK) {
        free(out);
        fprintf(stderr, "ntlmscope serve: GET %s error=%s\n", url, err);
        return send_error(conn, 500, "the view could not be read", NULL, NULL);
    }
    snprintf(disp, sizeof(disp), "attachment; filename=\"ntlmscope-%s.csv\"", name);
    snprintf(total_text, sizeof(total_text), "%lld", (long long)total);
    {
        const char *extra[] = {"X-Total-Count", total >= 0 ? total_text : NULL,
                               MHD_HTTP_HEADER_CONTENT_DISPOSITION, csv ? disp : NULL, NULL};
        ret = send_response(conn, 200, csv ? "text/csv; charset=utf-8" : "application/json", out,
                            len, 0, extra);
    }
    free(out);
    return ret;
}

/* The dashboard: "/" is index.html; /assets/NAME and the icon are the other files. */
static enum MHD_Result get_asset(struct MHD_Connection *conn, const char *url)
{
    const char *name = !strcmp(url, "/")              ? "index.html"
                       : !strncmp(url, "/assets/", 8) ? url + 8
                       : !strcmp(url, "/favicon.ico") ? "favicon.svg"
                                                      : url + 1;
    for (const struct ns_asset *a = ns_assets; a->name; a++) {
        if (!strcmp(a->name, name)) {
            return send_response(conn, 200, a->type, a->data, a->size, 1, NULL);
        }
    }
    return send_error(conn, 404, "not found", NULL, NULL);
}

/* ========================================================================================== */
/* Routing                                                                                     */
/* ========================================================================================== */

enum route_kind { R_EXACT, R_PREFIX };

/* The routes: method, path, how it matches. */
static const struct {
    const char *method;   /* HTTP method */
    const char *path;     /* path or prefix */
    enum route_kind kind; /* exact or prefix match */
} routes[] = {
    {"POST", "/api/v1/events", R_EXACT}, /* 0: ingest */
    {"GET", "/healthz", R_EXACT},        /* 1 */
    {"GET", "/metrics", R_EXACT},        /* 2 */
    {"GET", "/api/v1/views/", R_PREFIX}, /* 3 */
    {"GET", "/", R_EXACT},               /* 4: the dashboard */
    {"GET", "/assets/", R_PREFIX},       /* 5 */
    {"GET", "/favicon.svg", R_EXACT},    /* 6 */
    {"GET", "/favicon.ico", R_EXACT},    /* 7 */
};
enum {
    ROUTE_INGEST,
    ROUTE_HEALTH,
    ROUTE_METRICS,
    ROUTE_VIEWS,
    ROUTE_INDEX,
    ROUTE_ASSETS,
    ROUTE_FAVICON,
    ROUTE_FAVICON_ICO,
    NROUTES
};

static int find_route(const char *method, const char *url, int *path_known)
{
    *path_known = 0;
    for (int k = 0; k < NROUTES; k++) {
        int match = routes[k].kind == R_EXACT
                        ? !strcmp(url, routes[k].path)
                        : !strncmp(url, routes[k].path, strlen(routes[k].path));
        if (match) {
            *path_known = 1;
            if (!strcmp(method, routes[k].method) ||
                (!strcmp(method, "HEAD") && !strcmp(routes[k].method, "GET"))) {
                return k;
            }
        }
    }
    return -1;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct server *s = cls;
    struct request *rq = *con_cls;
    (void)version;
    if (!rq) {
        int known, route = find_route(method, url, &known);
        rq = calloc(1, sizeof(*rq));
        if (!rq) {
            return MHD_NO;
        }
        rq->route = route;
        rq->t0 = now_s();
        ns_buf_init(&rq->body, s->cfg->max_body);
        *con_cls = rq;
        if (route < 0) {
            if (known) {
                refuse(rq, 405, "method not allowed", "Allow",
                       strncmp(url, "/api/v1/events", 14) ? "GET" : "POST");
            } else {
                refuse(rq, 404, "not found", NULL, NULL);
            }
        } else if (route == ROUTE_INGEST) {
            ingest_begin(s, conn, rq);
        }
        return MHD_YES;
    }
    if (rq->answered) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->refuse) {
        /* drop the body, then answer; past the cap, answer at once (the connection closes) */
        uint64_t cap = (uint64_t)s->cfg->max_body * (rq->refuse == 413 ? 4 : 1);
        if (*upload_size) {
            rq->drained += *upload_size;
            *upload_size = 0;
            if (rq->drained <= cap) {
                return MHD_YES;
            }
        }
        rq->answered = 1;
        return send_error(conn, rq->refuse, rq->refuse_msg, rq->refuse_h, rq->refuse_v);
    }
    if (*upload_size) {
        if (!rq->too_big && ns_buf_add(&rq->body, upload, *upload_size) != NS_OK) {
            rq->too_big = 1;
            ns_buf_free(&rq->body);
        }
        if (rq->too_big) {
            rq->drained += *upload_size;
        }
        *upload_size = 0;
        if (rq->too_big && rq->drained > (uint64_t)s->cfg->max_body * 4) {
            rq->answered = 1;
            return send_error(conn, 413, "batch larger than max_body", NULL, NULL);
        }
        return MHD_YES;
    }
    rq->answered = 1;
    switch (rq->route) {
    case ROUTE_INGEST:
        return ingest(s, conn, rq);
    case ROUTE_HEALTH:
        return get_health(s, conn, rq);
    case ROUTE_METRICS:
        return get_metrics(s, conn, rq);
    case ROUTE_VIEWS:
        return get_view(s, conn, rq, url);
    case ROUTE_INDEX:
    case ROUTE_ASSETS:
    case ROUTE_FAVICON:
    case ROUTE_FAVICON_ICO:
        return get_asset(conn, url);
    default:
        return send_error(conn, 404, "not found", NULL, NULL);
    }
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct server *s = cls;
    struct request *rq = *con_cls;
    (void)conn;
    (void)toe;
    if (!rq) {
        return;
    }
    if (rq->counted) {
        pthread_mutex_lock(&s->stats_lock);
        s->inflight--;
        pthread_mutex_unlock(&s->stats_lock);
    }
    ns_buf_free(&rq->body);
    free(rq);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("ntlmscope serve: libmicrohttpd: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* ========================================================================================== */
/* The weekly summary on schedule                                                              */
/* ========================================================================================== */

#define SCHEDULER_CHECK_S 60  /* how often the schedule is looked at */
#define SCHEDULER_RETRY_S 300 /* after a failed send */

/* Sends the week due unless it was sent already (recorded in the database, so a restart never
 * sends it twice; a server that was down at the time sends it when it comes back). Returns
 * the seconds until the next look. */
static unsigned scheduler_tick(struct server *s)
{
    int64_t week = ns_schedule_due(&s->cfg->summary_at, time(NULL));
    struct ns_store *rd;
    char err[512], day[16];
    int sent = 0, rc;
    ns_format_date(week, day);
    if (!(rd = reader_get(s, err, sizeof(err)))) {
        fprintf(stderr, "ntlmscope serve: weekly summary: %s\n", err);
        return SCHEDULER_RETRY_S;
    }
    rc = ns_summary_was_sent(rd, week, &sent);
    if (rc != NS_OK || sent) {
        reader_put(s, rd);
        return SCHEDULER_CHECK_S;
    }
    /* sent without the writer lock (SMTP may be slow), then recorded under it */
    rc = ns_summary_send(rd, NULL, week, &s->cfg->mail, err, sizeof(err));
    reader_put(s, rd);
    if (rc == NS_OK) {
        char rcpts[2048] = "";
        size_t used = 0;
        for (int k = 0; k < s->cfg->mail.nto && used < sizeof(rcpts); k++) {
            used += (size_t)snprintf(rcpts + used, sizeof(rcpts) - used, "%s%s", k ? "," : "",
                                     s->cfg->mail.to[k]);
        }
        pthread_mutex_lock(&s->writer_lock);
        rc = ns_summary_mark_sent(s->writer, week, now_us(), rcpts);
        if (rc != NS_OK) {
            snprintf(err, sizeof(err), "sent, but not recorded: %s", ns_store_errmsg(s->writer));
        }
        pthread_mutex_unlock(&s->writer_lock);
    }
    if (rc != NS_OK) {
        fprintf(stderr, "ntlmscope serve: weekly summary for the week ending %s not sent: %s\n",
                day, err);
        return SCHEDULER_RETRY_S;
    }
    fprintf(stderr,
            "ntlmscope serve: weekly summary for the week ending %s sent to %d "
            "recipient%s\n",
            day, s->cfg->mail.nto, s->cfg->mail.nto == 1 ? "" : "s");
    return SCHEDULER_CHECK_S;
}

static void *scheduler_main(void *arg)
{
    struct server *s = arg;
    pthread_mutex_lock(&s->stop_lock);
    while (!s->stopping) {
        unsigned wait;
        struct timespec until;
        pthread_mutex_unlock(&s->stop_lock);
        wait = scheduler_tick(s);
        pthread_mutex_lock(&s->stop_lock);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += wait;
        while (!s->stopping && pthread_cond_timedwait(&s->stop_cond, &s->stop_lock, &until) == 0) {
        }
    }
    pthread_mutex_unlock(&s->stop_lock);
    return NULL;
}

/* ========================================================================================== */
/* Start and stop                                                                              */
/* ========================================================================================== */

/* Reads a whole (small) file into a NUL-terminated buffer; NULL on error. */
static char *read_small_file(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    struct ns_buf b;
    char chunk[4096];
    size_t n;
    if (!f) {
        return NULL;
    }
    ns_buf_init(&b, max);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (ns_buf_add(&b, chunk, n) != NS_OK) {
            fclose(f);
            ns_buf_free(&b);
            return NULL;
        }
    }
    fclose(f);
    if (!b.data) {
        ns_buf_add(&b, "", 0);
    }
    return b.data;
}

/* Parses HOST:PORT or [V6]:PORT into a socket address. */
static int parse_listen(const char *spec, struct sockaddr_storage *sa, int *loopback)
{
    char host[256];
    const char *colon, *port;
    struct addrinfo hints, *res = NULL;
    int64_t p;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof(host)) {
            return -1;
        }
        memcpy(host, spec + 1, (size_t)(close - spec - 1));
        host[close - spec - 1] = '\0';
        port = close + 2;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || (size_t)(colon - spec) >= sizeof(host)) {
            return -1;
        }
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
        port = colon + 1;
    }
    if (ns_parse_int(port, &p) != NS_OK || p < 0 || p > 65535) {
        return -1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0 || !res) {
        return -1;
    }
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (sa->ss_family == AF_INET) {
        *loopback = (ntohl(((struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    } else {
        *loopback = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)sa)->sin6_addr);
    }
    return 0;
}

int ns_server_run(const struct ns_server_config *cfg)
{
    struct server *s = calloc(1, sizeof(*s));
    struct sockaddr_storage sa;
    char err[512], *cert = NULL, *key = NULL;
    int loopback = 0, exit_code = 1, sig = 0;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG;
    sigset_t set;
    const union MHD_DaemonInfo *info;
    unsigned port = 0;
    double deadline;

    if (!s) {
        fputs("ntlmscope serve: out of memory\n", stderr);
        return 1;
    }
    s->cfg = cfg;
    s->started = time(NULL);
    pthread_mutex_init(&s->writer_lock, NULL);
    pthread_mutex_init(&s->group_lock, NULL);
    pthread_cond_init(&s->group_done, NULL);
    pthread_cond_init(&s->group_more, NULL);
    pthread_mutex_init(&s->readers_lock, NULL);
    pthread_mutex_init(&s->stats_lock, NULL);
    pthread_mutex_init(&s->stop_lock, NULL);
    pthread_cond_init(&s->stop_cond, NULL);
    if (parse_listen(cfg->listen, &sa, &loopback) != 0) {
        fprintf(stderr, "ntlmscope serve: --listen \"%s\" is not HOST:PORT\n", cfg->listen);
        goto out;
    }
    if ((cfg->tls_cert != NULL) != (cfg->tls_key != NULL)) {
        fputs("ntlmscope serve: HTTPS needs both --tls-cert and --tls-key\n", stderr);
        goto out;
    }
    if (!cfg->tls_cert && !loopback && !cfg->insecure_http) {
        fprintf(stderr,
                "ntlmscope serve: refusing plain HTTP on %s, which is not a loopback address: "
                "give --tls-cert and --tls-key, or --insecure-http to accept the risk\n",
                cfg->listen);
        goto out;
    }
    if (cfg->tls_cert) {
        if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
            fputs("ntlmscope serve: this libmicrohttpd has no TLS support\n", stderr);
            goto out;
        }
        if (!(cert = read_small_file(cfg->tls_cert, 1u << 20)) ||
            !(key = read_small_file(cfg->tls_key, 1u << 20))) {
            fprintf(stderr, "ntlmscope serve: cannot read %s: %s\n",
                    cert ? cfg->tls_key : cfg->tls_cert, strerror(errno));
            goto out;
        }
        flags |= MHD_USE_TLS;
    }
    if (ns_store_open(&s->writer, cfg->db, err, sizeof(err)) != NS_OK) {
        fprintf(stderr, "ntlmscope serve: %s\n", err);
        goto out;
    }
    ns_store_set_batch_limit(s->writer, 0);

    /* signals are taken by sigwait in this thread; every thread started after inherits it */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (cert) {
        s->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
            MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            cfg->per_ip_connections, MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout,
            MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
            MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_END);
    } else {
        s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR,
                                     (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
                                     cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                     cfg->per_ip_connections, MHD_OPTION_CONNECTION_TIMEOUT,
                                     cfg->timeout, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
                                     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_END);
    }
    if (!s->daemon) {
        fprintf(stderr, "ntlmscope serve: cannot listen on %s: %s\n", cfg->listen,
                errno ? strerror(errno) : "libmicrohttpd refused the options");
        goto out;
    }
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    port = info ? info->port : 0;
    fprintf(stderr, "ntlmscope serve: listening on %s://%s (port %u), database %s\n",
            cert ? "https" : "http", cfg->listen, port, cfg->db);
    if (cfg->port_file) {
        char tmp[4096];
        FILE *pf;
        snprintf(tmp, sizeof(tmp), "%s.tmp", cfg->port_file);
        if (!(pf = fopen(tmp, "w")) || fprintf(pf, "%u\n", port) < 0 || fclose(pf) != 0 ||
            rename(tmp, cfg->port_file) != 0) {
            fprintf(stderr, "ntlmscope serve: cannot write %s\n", cfg->port_file);
        }
    }
    if (cfg->summary_on) {
        if (pthread_create(&s->scheduler, NULL, scheduler_main, s) != 0) {
            fputs("ntlmscope serve: cannot start the summary scheduler\n", stderr);
        } else {
            s->scheduler_running = 1;
        }
    }
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
        fputs("ntlmscope serve: SIGHUP ignored (tokens and revocations apply at once)\n", stderr);
    }
    fprintf(stderr, "ntlmscope serve: %s: no new connections; finishing the batches in flight\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    {
        MHD_socket fd = MHD_quiesce_daemon(s->daemon);
        if (fd != MHD_INVALID_SOCKET) {
            close(fd);
        }
    }
    deadline = now_s() + 60;
    for (;;) {
        unsigned busy;
        pthread_mutex_lock(&s->stats_lock);
        busy = s->inflight;
        pthread_mutex_unlock(&s->stats_lock);
        if (!busy || now_s() > deadline) {
            break;
        }
        usleep(20000);
    }
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    if (s->scheduler_running) {
        pthread_mutex_lock(&s->stop_lock);
        s->stopping = 1;
        pthread_cond_signal(&s->stop_cond);
        pthread_mutex_unlock(&s->stop_lock);
        pthread_join(s->scheduler, NULL);
        s->scheduler_running = 0;
    }
    fputs("ntlmscope serve: stopped\n", stderr);
    exit_code = 0;
out:
    if (s->daemon) {
        MHD_stop_daemon(s->daemon);
    }
    if (ns_store_close(s->writer) != NS_OK) {
        exit_code = 1;
    }
    for (int k = 0; k < s->nreaders; k++) {
        ns_store_close(s->readers[k]);
    }
    pthread_mutex_destroy(&s->writer_lock);
    pthread_mutex_destroy(&s->group_lock);
    pthread_cond_destroy(&s->group_done);
    pthread_cond_destroy(&s->group_more);
    pthread_mutex_destroy(&s->readers_lock);
    pthread_mutex_destroy(&s->stats_lock);
    pthread_mutex_destroy(&s->stop_lock);
    pthread_cond_destroy(&s->stop_cond);
    free(cert);
    if (key) {
        memset(key, 0, strlen(key));
    }
    free(key);
    free(s);
    return exit_code;
}
