/*
 * ship.c - `ntlmscope ship`, the agent: reads event files (or watches a folder where
 * Windows exports land), normalizes the events with the collector and delivers them to
 * the server, at least once and with per-file progress so a restart neither loses nor
 * re-sends a log.
 *
 * Delivery order, so that a crash at any point loses nothing and repeats at most the batch
 * that was on its way:
 *   1. a full batch is written beside the spool (batch-N.nsb.part, fsync), in the binary
 *      batch of collector/batch.c;
 *   2. then the file's progress (events handled so far) is saved with the batch's number
 *      (temporary file, fsync, rename);
 *   3. then the batch is moved into the spool (batch-N.nsb); a run that finds a part puts it
 *      in place when the progress counts it and removes it otherwise (its events are read
 *      again);
 *   4. spooled batches are POSTed in order and deleted only when the server answered 200
 *      (which it does after its commit). A restart first re-sends what is in the spool;
 *      the server's de-duplication makes a repeat harmless.
 * Delivery runs on a thread of its own while the files are read: the reader goes on while a
 * batch is on its way (at most SEND_AHEAD batches ahead), and a file counts as done once the
 * spool is empty again.
 */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define MAX_STATE 4096                /* files remembered in the progress state */
#define MAX_SPOOL 100000              /* batches waiting in the spool */
#define BACKOFF_MAX 60.0              /* seconds between retries at most */
#define BATCH_BYTES ((size_t)8 << 20) /* a batch ends at this size, well under max_body */
#define SEND_AHEAD 2 /* batches spooled and not yet delivered before the reader waits */

/* Spool files: binary batches, and the gzipped canonical NDJSON of agents before them (still
 * sent after an upgrade), told apart by their name. */
enum spool_kind { SPOOL_BATCH, SPOOL_NDJSON_GZ };
static const char *const spool_ext[] = {"nsb", "ndjson.gz"};
static const char *const spool_type[] = {"Content-Type: application/vnd.ntlmscope.batch",
                                         "Content-Type: application/x-ndjson"};

/* A spooled batch: its number and kind. */
struct spooled {
    uint64_t seq;
    enum spool_kind kind;
};

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Progress of one file. */
struct file_state {
    char *path;        /* as named on the command line or found in the watched folder */
    uint64_t dev, ino; /* identity: a replaced file starts over */
    uint64_t done;     /* events (and skipped/rejected records) handled and spooled */
    uint64_t size;     /* file size when it was last read to its end, 0 if never */
};

struct agent {
    const char *url;     /* server URL + /api/v1/events */
    const char *spool;   /* spool directory */
    const char *ca_file; /* CA bundle, or NULL for the system's */
    char auth[200];      /* "Authorization: Bearer ..." */
    int batch_events;    /* events per batch */
    double max_retry;    /* seconds of failed delivery before giving up; 0: forever */
    CURL *curl;          /* one handle, connections reused */
    struct file_state files[MAX_STATE]; /* progress */
    int nfiles;                         /* used entries */
    uint64_t next_seq;                  /* number of the next spooled batch */
    uint64_t spooled_seq;               /* the last batch whose progress the state holds */
    /* the file being read */
    struct file_state *cur;       /* its state */
    uint64_t pos;                 /* records handled in this file so far */
    uint64_t skip;                /* records handled in an earlier run */
    struct ns_batch_writer batch; /* the batch being built */
    int batch_n;                  /* events in it */
    int fatal;                    /* delivery gave up (token refused, server gone too long) */
    /* the sender thread; lock guards what follows, and fatal and the delivery totals while
     * the thread runs */
    pthread_t sender;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* any of these changed */
    int sender_on;          /* the thread runs */
    int unsent;             /* batches spooled by the reader, not yet delivered or refused */
    int wake;               /* batches were spooled since the sender last looked */
    int sending;            /* the sender is delivering */
    int quit;               /* the sender must stop */
    /* totals */
    uint64_t read, shipped, skipped, rejected;                       /* by the reader */
    uint64_t accepted, duplicates, refused, batches, failed_batches; /* by the sender */
    int tty;                                                         /* stderr is a terminal */
    double last_progress; /* time of the last progress line */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ========================================================================================== */
/* Durable files                                                                               */
/* ========================================================================================== */

/* Writes data to path through path.tmp, fsync and rename. Returns 0 or -1 (errno set). */
/* Writes data to path and syncs it to the disk; on failure path is removed. */
static int write_synced(const char *path, const void *data, size_t len)
{
    int fd, saved;
    const char *p = data;
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0) {
        return -1;
    }
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            goto fail;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    saved = errno;
    if (fd >= 0) {
        close(fd);
    }
    unlink(path);
    errno = saved;
    return -1;
}

/* Replaces path with data: written beside it and synced, then renamed over it. */
static int write_durable(const char *path, const void *data, size_t len)
{
    char tmp[4300];
    int saved;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (write_synced(tmp, data, len) != 0) {
        return -1;
    }
    if (rename(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    return 0;
}

static int save_state(struct agent *a)
{
    struct ns_buf b;
    char path[4200];
    int rc = 0;
    ns_buf_init(&b, 64u << 20);
    rc = ns_buf_printf(&b, "spooled\t%llu\n", (unsigned long long)a->spooled_seq) == NS_OK ? 0 : -1;
    for (int k = 0; k < a->nfiles && rc == 0; k++) {
        const struct file_state *f = &a->files[k];
        rc = ns_buf_printf(&b, "%llu\t%llu\t%llu\t%llu\t%s\n", (unsigned long long)f->dev,
                           (unsigned long long)f->ino, (unsigned long long)f->done,
                           (unsigned long long)f->size, f->path) == NS_OK
                 ? 0
                 : -1;
    }
    snprintf(path, sizeof(path), "%s/state", a->spool);
    if (rc == 0 && write_durable(path, b.data ? b.data : "", b.len) != 0) {
        fprintf(stderr, "ntlmscope ship: cannot save %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    ns_buf_free(&b);
    return rc;
}

static int load_state(struct agent *a)
{
    char path[4200], line[4400];
    FILE *f;
    snprintf(path, sizeof(path), "%s/state", a->spool);
    if (!(f = fopen(path, "r"))) {
        return errno == ENOENT ? 0 : -1;
    }
    while (fgets(line, sizeof(line), f) && a->nfiles < MAX_STATE) {
        unsigned long long dev, ino, done, size;
        int off = 0;
        char *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
        }
        if (sscanf(line, "spooled\t%llu", &done) == 1) {
            a->spooled_seq = done;
            continue;
        }
        if (sscanf(line, "%llu\t%llu\t%llu\t%llu\t%n", &dev, &ino, &done, &size, &off) != 4 ||
            !off || !line[off]) {
            continue;
        }
        a->files[a->nfiles].path = strdup(line + off);
        if (!a->files[a->nfiles].path) {
            fclose(f);
            return -1;
        }
        a->files[a->nfiles].dev = dev;
        a->files[a->nfiles].ino = ino;
        a->files[a->nfiles].done = done;
        a->files[a->nfiles].size = size;
        a->nfiles++;
    }
    fclose(f);
    return 0;
}

/* The state entry of path (created when new). */
static struct file_state *state_for(struct agent *a, const char *path)
{
    for (int k = 0; k < a->nfiles; k++) {
        if (!strcmp(a->files[k].path, path)) {
            return &a->files[k];
        }
    }
    if (a->nfiles >= MAX_STATE) {
        return NULL;
    }
    memset(&a->files[a->nfiles], 0, sizeof(a->files[0]));
    if (!(a->files[a->nfiles].path = strdup(path))) {
        return NULL;
    }
    return &a->files[a->nfiles++];
}

/* ========================================================================================== */
/* The spool                                                                                   */
/* ========================================================================================== */

static int cmp_spooled(const void *x, const void *y)
{
    uint64_t a = ((const struct spooled *)x)->seq, b = ((const struct spooled *)y)->seq;
    return a < b ? -1 : a > b;
}

/* Batches written but not moved into the spool when a run stopped: those whose progress the
 * state holds go in (their events will not be read again), the others away (they will). */
static void recover_parts(struct agent *a)
{
    DIR *d = opendir(a->spool);
    struct dirent *e;
    if (!d) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        unsigned long long seq;
        int end = 0;
        char part[4300], path[4200];
        if (sscanf(e->d_name, "batch-%20llu.nsb.part%n", &seq, &end) != 1 || !end ||
            e->d_name[end]) {
            continue;
        }
        snprintf(part, sizeof(part), "%s/%s", a->spool, e->d_name);
        snprintf(path, sizeof(path), "%s/batch-%020llu.%s", a->spool, seq, spool_ext[SPOOL_BATCH]);
        if (seq <= a->spooled_seq ? rename(part, path) != 0 : unlink(part) != 0) {
            fprintf(stderr, "ntlmscope ship: cannot recover %s: %s\n", part, strerror(errno));
        }
    }
    closedir(d);
}

/* The spooled batches, in order. Returns how many (at most max). */
static size_t list_spool(struct agent *a, struct spooled *out, size_t max)
{
    DIR *d = opendir(a->spool);
    struct dirent *e;
    size_t n = 0;
    if (!d) {
        return 0;
    }
    while ((e = readdir(d)) != NULL && n < max) {
        unsigned long long seq;
        int end = 0;
        if (sscanf(e->d_name, "batch-%20llu.%n", &seq, &end) != 1 || !end) {
            continue;
        }
        for (int k = 0; k < 2; k++) {
            if (!strcmp(e->d_name + end, spool_ext[k])) {
                out[n].seq = seq;
                out[n++].kind = (enum spool_kind)k;
            }
        }
    }
    closedir(d);
    qsort(out, n, sizeof(*out), cmp_spooled);
    return n;
}

/* Moves the batch being built into the spool, then records the file's progress. */
static int spool_batch(struct agent *a)
{
    char path[4200], part[4300];
    int rc = 0;
    if (a->batch_n == 0) {
        if (a->cur && a->cur->done != a->pos) {
            a->cur->done = a->pos;
            return save_state(a);
        }
        return 0;
    }
    if (ns_batch_end(&a->batch) != NS_OK) {
        fprintf(stderr, "ntlmscope ship: cannot end a batch: out of memory\n");
        return -1;
    }
    snprintf(path, sizeof(path), "%s/batch-%020llu.%s", a->spool, (unsigned long long)a->next_seq,
             spool_ext[SPOOL_BATCH]);
    snprintf(part, sizeof(part), "%s.part", path);
    /* the batch on disk, then the progress with it, then the batch into the spool: a crash
     * between the last two leaves a part the state counts, which the next run puts in place
     * (recover_parts); the sender never holds a batch whose events would be read again */
    if (write_synced(part, a->batch.out.data, a->batch.out.len) != 0) {
        fprintf(stderr, "ntlmscope ship: cannot write %s: %s\n", part, strerror(errno));
        rc = -1;
    } else {
        uint64_t was_spooled = a->spooled_seq, was_done = a->cur ? a->cur->done : 0;
        a->spooled_seq = a->next_seq;
        if (a->cur) {
            a->cur->done = a->pos;
        }
        if (save_state(a) != 0) {
            unlink(part);
            a->spooled_seq = was_spooled;
            if (a->cur) {
                a->cur->done = was_done;
            }
            rc = -1;
        } else if (rename(part, path) != 0) {
            fprintf(stderr, "ntlmscope ship: cannot move %s into the spool: %s\n", part,
                    strerror(errno));
            rc = -1; /* the next run puts it in place */
        } else {
            a->next_seq++;
        }
    }
    ns_batch_writer_reset(&a->batch);
    a->batch_n = 0;
    return rc;
}

/* ========================================================================================== */
/* Delivery                                                                                    */
/* ========================================================================================== */

static size_t collect_body(char *p, size_t size, size_t n, void *ctx)
{
    return ns_buf_add(ctx, p, size * n) == NS_OK ? size * n : 0;
}

/* Reads the counts of a 200 answer. */
static void read_answer(struct agent *a, const struct ns_buf *body)
{
    json_error_t err;
    json_t *o = body->data ? json_loadb(body->data, body->len, 0, &err) : NULL;
    if (!o) {
        return;
    }
    a->accepted += (uint64_t)json_integer_value(json_object_get(o, "accepted"));
    a->duplicates += (uint64_t)json_integer_value(json_object_get(o, "duplicates"));
    a->refused += json_array_size(json_object_get(o, "rejected")) +
                  (uint64_t)json_integer_value(json_object_get(o, "rejected_not_listed"));
    json_decref(o);
}

enum send_result { SEND_OK, SEND_RETRY, SEND_BAD_BATCH, SEND_FATAL };

/* POSTs one spooled batch. */
static enum send_result send_one(struct agent *a, const char *path, enum spool_kind kind, char *why,
                                 size_t whylen)
{
    struct ns_buf body, answer;
    struct curl_slist *hdrs = NULL;
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;
    long status = 0;
    CURLcode cc;
    enum send_result res;
    if (!f) {
        snprintf(why, whylen, "cannot read %.300s: %s", path, strerror(errno));
        return SEND_FATAL;
    }
    ns_buf_init(&body, 512u << 20);
    ns_buf_init(&answer, 1u << 20);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (ns_buf_add(&body, chunk, n) != NS_OK) {
            break;
        }
    }
    fclose(f);
    hdrs = curl_slist_append(hdrs, a->auth);
    hdrs = curl_slist_append(hdrs, spool_type[kind]);
    if (kind == SPOOL_NDJSON_GZ) {
        hdrs = curl_slist_append(hdrs, "Content-Encoding: gzip");
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(a->curl, CURLOPT_URL, a->url);
    curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(a->curl, CURLOPT_POSTFIELDS, body.data ? body.data : "");
    curl_easy_setopt(a->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    curl_easy_setopt(a->curl, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, &answer);
    cc = curl_easy_perform(a->curl);
    if (cc == CURLE_OK) {
        curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(hdrs);
    curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, NULL);
    if (cc != CURLE_OK) {
        snprintf(why, whylen, "%s", curl_easy_strerror(cc));
        res = cc == CURLE_SSL_CACERT || cc == CURLE_PEER_FAILED_VERIFICATION ||
                      cc == CURLE_SSL_CACERT_BADFILE
                  ? SEND_FATAL
                  : SEND_RETRY;
    } else if (status == 200) {
        read_answer(a, &answer);
        res = SEND_OK;
    } else {
        snprintf(why, whylen, "HTTP %ld: %.300s", status,
                 answer.data ? answer.data : "(no answer)");
        res = status == 401 || status == 403                    ? SEND_FATAL
              : status == 400 || status == 413 || status == 415 ? SEND_BAD_BATCH
                                                                : SEND_RETRY;
    }
    ns_buf_free(&body);
    ns_buf_free(&answer);
    return res;
}

static double jitter(double max)
{
    uint32_t r = 0;
    if (ns_random(&r, sizeof(r)) != NS_OK) {
        r = (uint32_t)rand();
    }
    return max * (0.5 + 0.5 * (r / 4294967295.0));
}

/* Delivery gave up (on either thread). */
static void set_fatal(struct agent *a)
{
    pthread_mutex_lock(&a->lock);
    a->fatal = 1;
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->lock);
}

/* Sends every spooled batch in order. Returns 0 when the spool is empty, -1 when delivery
 * stopped (a->fatal set when it cannot go on). */
static int flush_spool(struct agent *a)
{
    static struct spooled seqs[MAX_SPOOL];
    size_t n = list_spool(a, seqs, MAX_SPOOL);
    double failing_since = 0, delay = 1.0;
    for (size_t k = 0; k < n; k++) {
        char path[4200], why[512];
        enum send_result r;
        snprintf(path, sizeof(path), "%s/batch-%020llu.%s", a->spool,
                 (unsigned long long)seqs[k].seq, spool_ext[seqs[k].kind]);
        for (;;) {
            r = send_one(a, path, seqs[k].kind, why, sizeof(why));
            if (r != SEND_RETRY) {
                break;
            }
            if (!failing_since) {
                failing_since = now_s();
            }
            if (stop_requested ||
                (a->max_retry > 0 && now_s() - failing_since + delay > a->max_retry)) {
                fprintf(stderr, "ntlmscope ship: giving up for now: %s (%zu batches stay in %s)\n",
                        why, n - k, a->spool);
                set_fatal(a);
                return -1;
            }
            {
                double wait = jitter(delay);
                fprintf(stderr, "ntlmscope ship: server unavailable (%s); retrying in %.1f s\n",
                        why, wait);
                usleep((useconds_t)(wait * 1e6));
            }
            delay = delay * 2 > BACKOFF_MAX ? BACKOFF_MAX : delay * 2;
        }
        failing_since = 0;
        delay = 1.0;
        pthread_mutex_lock(&a->lock);
        a->unsent--;
        a->batches += r == SEND_OK;
        a->failed_batches += r == SEND_BAD_BATCH;
        pthread_cond_broadcast(&a->changed);
        pthread_mutex_unlock(&a->lock);
        if (r == SEND_OK) {
            if (unlink(path) != 0) {
                fprintf(stderr, "ntlmscope ship: cannot remove %s: %s\n", path, strerror(errno));
                set_fatal(a);
                return -1;
            }
        } else if (r == SEND_BAD_BATCH) {
            /* the server will never take it: keep it aside for a person to look at */
            char bad[4300];
            snprintf(bad, sizeof(bad), "%s.refused", path);
            fprintf(stderr, "ntlmscope ship: the server refused %s: %s (kept as %s)\n", path, why,
                    bad);
            if (rename(path, bad) != 0) {
                set_fatal(a);
                return -1;
            }
        } else {
            fprintf(stderr, "ntlmscope ship: cannot deliver: %s\n", why);
            set_fatal(a);
            return -1;
        }
    }
    return 0;
}

/* ========================================================================================== */
/* Reading files                                                                               */
/* ========================================================================================== */

static void show_progress(struct agent *a, const char *file)
{
    double t = now_s();
    if (!a->tty || t - a->last_progress < 0.25) {
        return;
    }
    a->last_progress = t;
    pthread_mutex_lock(&a->lock);
    fprintf(stderr, "\r\033[K%s: %llu events read, %llu batches delivered", file,
            (unsigned long long)a->read, (unsigned long long)a->batches);
    pthread_mutex_unlock(&a->lock);
}

/* The sender thread: delivers what the reader spools, in order, until told to quit. */
static void *sender_main(void *arg)
{
    struct agent *a = arg;
    pthread_mutex_lock(&a->lock);
    for (;;) {
        while (!a->wake && !a->quit) {
            pthread_cond_wait(&a->changed, &a->lock);
        }
        if (!a->wake) {
            break;
        }
        a->wake = 0;
        if (a->fatal) {
            continue; /* delivery gave up: the spool stays for the next run */
        }
        a->sending = 1;
        pthread_mutex_unlock(&a->lock);
        flush_spool(a);
        pthread_mutex_lock(&a->lock);
        a->sending = 0;
        pthread_cond_broadcast(&a->changed);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

/* Waits on changed for a tenth of a second at most (a signal sets stop_requested alone). */
static void wait_changed(struct agent *a)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 100000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&a->changed, &a->lock, &until);
}

/* Hands the batches spooled since the last call (spooled: how many) to the sender, then
 * waits while more than SEND_AHEAD are on their way. Without the sender thread, delivers
 * them itself. Returns 0, or -1 when delivery stopped. */
static int send_spooled(struct agent *a, int spooled)
{
    int rc;
    if (!a->sender_on) {
        return flush_spool(a);
    }
    pthread_mutex_lock(&a->lock);
    a->unsent += spooled;
    a->wake = 1;
    pthread_cond_broadcast(&a->changed);
    while (a->unsent > SEND_AHEAD && !a->fatal && !stop_requested) {
        wait_changed(a);
    }
    rc = a->fatal ? -1 : 0;
    pthread_mutex_unlock(&a->lock);
    return rc;
}

/* Waits until everything spooled is delivered (or delivery stopped). Returns as
 * send_spooled. */
static int send_all(struct agent *a)
{
    int rc;
    if (!a->sender_on) {
        return flush_spool(a);
    }
    pthread_mutex_lock(&a->lock);
    a->wake = 1; /* one more look: whatever the spool holds now */
    pthread_cond_broadcast(&a->changed);
    while ((a->wake || a->sending || a->unsent > 0) && !a->fatal) {
        wait_changed(a);
    }
    rc = a->fatal ? -1 : 0;
    pthread_mutex_unlock(&a->lock);
    return rc;
}

/* Spools the batch being built and hands it on. Returns 0 or -1. */
static int spool_and_send(struct agent *a)
{
    uint64_t seq = a->next_seq;
    if (spool_batch(a) != 0) {
        return -1;
    }
    return send_spooled(a, (int)(a->next_seq - seq));
}

/* Each record position counts, so a restart skips exactly what was handled. */
static int on_event(void *ctx, const struct ns_event *ev)
{
    struct agent *a = ctx;
    int rc;
    if (a->pos++ < a->skip) {
        return NS_OK;
    }
    a->read++;
    if ((rc = ns_batch_put(&a->batch, ev)) == NS_ETOOBIG && a->batch_n) {
        /* full by size: this batch goes, the event starts the next one */
        a->pos--;
        if (spool_and_send(a) != 0) {
            return NS_EABORT;
        }
        a->pos++;
        rc = ns_batch_put(&a->batch, ev);
    }
    if (rc != NS_OK) {
        fprintf(stderr, "ntlmscope ship: %s: an event cannot be batched: %s\n", a->cur->path,
                ns_rc_str(rc));
        return rc;
    }
    a->batch_n++;
    a->shipped++;
    if (a->batch_n >= a->batch_events || a->batch.out.len >= BATCH_BYTES) {
        if (spool_and_send(a) != 0) {
            return NS_EABORT;
        }
        show_progress(a, a->cur->path);
    }
    return stop_requested ? NS_EABORT : NS_OK;
}

static void on_skip(void *ctx, const struct ns_raw *raw)
{
    struct agent *a = ctx;
    (void)raw;
    if (a->pos++ >= a->skip) {
        a->skipped++;
    }
}

static void on_reject(void *ctx, const char *source, const char *where, const char *why)
{
    struct agent *a = ctx;
    if (a->pos++ >= a->skip) {
        a->rejected++;
        fprintf(stderr, "%sntlmscope ship: %s: %s: rejected: %s\n", a->tty ? "\r\033[K" : "",
                source, where, why);
    }
}

/* Reads one file from where an earlier run stopped. Returns 0, or -1 when it could not be
 * read or delivered. */
static int ship_file(struct agent *a, const char *path)
{
    struct stat st;
    struct file_state *fs;
    struct ns_sink sink = {a, on_event, on_skip, on_reject};
    char err[512];
    uint64_t seq;
    int rc;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "ntlmscope ship: %s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    if (!(fs = state_for(a, path))) {
        fprintf(stderr, "ntlmscope ship: too many files to remember\n");
        return -1;
    }
    if (fs->dev != (uint64_t)st.st_dev || fs->ino != (uint64_t)st.st_ino ||
        (uint64_t)st.st_size < fs->size) {
        fs->dev = (uint64_t)st.st_dev; /* a new or replaced file: from the start */
        fs->ino = (uint64_t)st.st_ino;
        fs->done = 0;
        fs->size = 0;
    } else if (fs->size == (uint64_t)st.st_size && fs->size) {
        return 0; /* read to its end already, unchanged */
    }
    a->cur = fs;
    a->pos = 0;
    a->skip = fs->done;
    ns_batch_writer_reset(&a->batch);
    a->batch_n = 0;
    rc = ns_parse_path(path, NS_FMT_AUTO, &sink, NULL, NULL, err, sizeof(err));
    if (a->tty) {
        fputs("\r\033[K", stderr);
    }
    if (rc == NS_EABORT || a->fatal) {
        a->cur = NULL;
        return -1;
    }
    seq = a->next_seq;
    if (spool_batch(a) != 0) {
        a->cur = NULL;
        return -1;
    }
    send_spooled(a, (int)(a->next_seq - seq)); /* how delivery went: send_all below */
    if (rc == NS_OK || rc == NS_EPARSE) {
        fs->done = a->pos;
        fs->size = (uint64_t)st.st_size;
        if (save_state(a) != 0) {
            a->cur = NULL;
            return -1;
        }
    }
    a->cur = NULL;
    if (rc == NS_EIO || (rc != NS_OK && rc != NS_EPARSE)) {
        fprintf(stderr, "ntlmscope ship: %s\n", err[0] ? err : ns_rc_str(rc));
        return -1;
    }
    return send_all(a) == 0 && rc == NS_OK ? 0 : -1;
}

/* ========================================================================================== */
/* Watching a folder                                                                           */
/* ========================================================================================== */

/* What a poll saw of a file. */
struct seen {
    char *path;   /* full path */
    off_t size;   /* size at the last poll */
    time_t mtime; /* modification time at the last poll */
    int stable;   /* polls in a row without change */
};

static int watch(struct agent *a, const char *dir, unsigned interval, int once)
{
    static struct seen seen[MAX_STATE];
    int nseen = 0, failures = 0;
    do {
        DIR *d = opendir(dir);
        struct dirent *e;
        if (!d) {
            fprintf(stderr, "ntlmscope ship: %s: cannot open: %s\n", dir, strerror(errno));
            return -1;
        }
        while ((e = readdir(d)) != NULL && !stop_requested) {
            char path[4200];
            struct stat st;
            int k;
            if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp")) {
                continue;
            }
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
                continue;
            }
            for (k = 0; k < nseen && strcmp(seen[k].path, path); k++) {
            }
            if (k == nseen) {
                if (nseen >= MAX_STATE || !(seen[k].path = strdup(path))) {
                    continue;
                }
                nseen++;
                seen[k].stable = -1;
            }
            if (seen[k].size == st.st_size && seen[k].mtime == st.st_mtime) {
                seen[k].stable++;
            } else {
                seen[k].size = st.st_size;
                seen[k].mtime = st.st_mtime;
                seen[k].stable = 0;
            }
            /* a file still being written (by wevtutil, a copy) waits one poll */
            if ((once || seen[k].stable >= 1) && ship_file(a, path) != 0) {
                failures++;
                if (a->fatal) {
                    break;
                }
            }
        }
        closedir(d);
        if (a->fatal || once) {
            break;
        }
        for (unsigned s = 0; s < interval * 10 && !stop_requested; s++) {
            usleep(100000);
        }
    } while (!stop_requested);
    for (int k = 0; k < nseen; k++) {
        free(seen[k].path);
    }
    return failures || a->fatal ? -1 : 0;
}

/* ========================================================================================== */
/* The command                                                                                 */
/* ========================================================================================== */

static int read_token(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    char line[256];
    size_t len;
    struct stat st;
    if (!f) {
        fprintf(stderr, "ntlmscope ship: %s: cannot open the token file: %s\n", path,
                strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 0077)) {
        fprintf(stderr, "ntlmscope ship: warning: %s can be read by other users (chmod 600)\n",
                path);
    }
    if (!fgets(line, sizeof(line), f)) {
        line[0] = '\0';
    }
    fclose(f);
    len = strcspn(line, " \t\r\n");
    line[len] = '\0';
    if (!len || len + 1 > n) {
        fprintf(stderr, "ntlmscope ship: %s holds no token\n", path);
        return -1;
    }
    memcpy(out, line, len + 1);
    return 0;
}

int ns_cmd_ship(int argc, char **argv)
{
    const char *server = NULL, *token_file = NULL, *spool = NULL, *ca = NULL, *watch_dir = NULL,
               *batch = NULL, *interval = NULL, *max_retry = NULL;
    int once = 0, npos, exit_code = 0, lockfd = -1;
    char *files[4096], token[160], url[2048], lockpath[4200];
    struct ns_opt opts[] = {
        {"--server", NS_OPT_STR, &server},     {"--token-file", NS_OPT_STR, &token_file},
        {"--spool", NS_OPT_STR, &spool},       {"--ca-file", NS_OPT_STR, &ca},
        {"--watch", NS_OPT_STR, &watch_dir},   {"--batch", NS_OPT_STR, &batch},
        {"--interval", NS_OPT_STR, &interval}, {"--max-retry", NS_OPT_STR, &max_retry},
        {"--once", NS_OPT_FLAG, &once},        {NULL, NS_OPT_STR, NULL}};
    struct agent *a;
    int64_t v;
    unsigned every = 10;
    struct sigaction sa;

    npos = ns_cli_parse("ship", argc, argv, opts, files, 4096);
    if (npos < 0) {
        return 2;
    }
    if (!server || !token_file || (npos == 0) == (watch_dir == NULL)) {
        fputs("usage: ntlmscope ship --server URL --token-file FILE [--spool DIR] [--ca-file F]\n"
              "                      [--batch N] [--max-retry SECONDS] FILE... | --watch DIR\n"
              "                      [--interval SECONDS] [--once]\n",
              stderr);
        return 2;
    }
    if (strncmp(server, "http://", 7) && strncmp(server, "https://", 8)) {
        fprintf(stderr, "ntlmscope ship: --server is http://HOST:PORT or https://HOST:PORT\n");
        return 2;
    }
    if (!(a = calloc(1, sizeof(*a)))) {
        return 1;
    }
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->changed, NULL);
    /* 5000 events (a binary batch of about 0.5 MB for the bench's 400-host domain): each
     * batch costs the agent an fsync and a request and the server a share of a commit, so
     * fewer, larger batches carry more events per second (4 agents on loopback, with
     * gzipped NDJSON then: 0.75x -> 0.83x of file ingest against 2000; 20,000 was slower
     * in that bench of 32,000 events an agent) */
    a->batch_events = 5000;
    a->max_retry = watch_dir ? 0 : 600;
    if (batch) {
        if (ns_parse_int(batch, &v) != NS_OK || v < 1 || v > 100000) {
            fputs("ntlmscope ship: --batch is 1 to 100000 events\n", stderr);
            free(a);
            return 2;
        }
        a->batch_events = (int)v;
    }
    if (max_retry) {
        if (ns_parse_int(max_retry, &v) != NS_OK || v < 0) {
            fputs("ntlmscope ship: --max-retry is a number of seconds (0: forever)\n", stderr);
            free(a);
            return 2;
        }
        a->max_retry = (double)v;
    }
    if (interval) {
        if (ns_parse_int(interval, &v) != NS_OK || v < 1 || v > 86400) {
            fputs("ntlmscope ship: --interval is 1 to 86400 seconds\n", stderr);
            free(a);
            return 2;
        }
        every = (unsigned)v;
    }
    if (read_token(token_file, token, sizeof(token)) != 0) {
        free(a);
        return 1;
    }
    snprintf(a->auth, sizeof(a->auth), "Authorization: Bearer %.150s", token);
    memset(token, 0, sizeof(token));
    snprintf(url, sizeof(url), "%.*s/api/v1/events",
             (int)(strlen(server) - (server[strlen(server) - 1] == '/')), server);
    a->url = url;
    a->ca_file = ca;
    spool = spool                       ? spool
            : getenv("NTLMSCOPE_SPOOL") ? getenv("NTLMSCOPE_SPOOL")
                                        : "ntlmscope-spool";
    a->spool = spool;
    a->tty = isatty(STDERR_FILENO);
    ns_batch_writer_init(&a->batch, 256u << 20);
    if (mkdir(spool, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "ntlmscope ship: cannot create the spool %s: %s\n", spool, strerror(errno));
        exit_code = 1;
        goto out;
    }
    snprintf(lockpath, sizeof(lockpath), "%s/lock", spool);
    if ((lockfd = open(lockpath, O_RDWR | O_CREAT, 0600)) < 0 ||
        flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "ntlmscope ship: another ntlmscope ship is using the spool %s\n", spool);
        exit_code = 1;
        goto out;
    }
    if (load_state(a) != 0) {
        fprintf(stderr, "ntlmscope ship: cannot read %s/state\n", spool);
        exit_code = 1;
        goto out;
    }
    recover_parts(a);
    a->next_seq = a->spooled_seq + 1; /* never a number the state already counts */
    {
        static struct spooled all[MAX_SPOOL];
        size_t n = list_spool(a, all, MAX_SPOOL);
        if (n && all[n - 1].seq >= a->next_seq) {
            a->next_seq = all[n - 1].seq + 1;
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(a->curl = curl_easy_init())) {
        fputs("ntlmscope ship: libcurl cannot start\n", stderr);
        exit_code = 1;
        goto out;
    }
    curl_easy_setopt(a->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(a->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(a->curl, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(a->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(a->curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(a->curl, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(a->curl, CURLOPT_USERAGENT, "ntlmscope-ship/0.1");
    if (ca) {
        curl_easy_setopt(a->curl, CURLOPT_CAINFO, ca);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* what an earlier run spooled goes first; then the sender delivers while files are read
     * (without it, when it cannot start, the reader delivers itself) */
    if (flush_spool(a) != 0) {
        exit_code = 1;
        goto summary;
    }
    a->unsent = 0;
    a->sender_on = pthread_create(&a->sender, NULL, sender_main, a) == 0;
    if (watch_dir) {
        if (watch(a, watch_dir, every, once) != 0) {
            exit_code = 1;
        }
    } else {
        for (int k = 0; k < npos && !a->fatal && !stop_requested; k++) {
            if (ship_file(a, files[k]) != 0) {
                exit_code = 1;
            }
        }
    }
    if (stop_requested) {
        fputs("ntlmscope ship: stopping on a signal; progress is saved\n", stderr);
        send_all(a);
    }
    if (a->sender_on) {
        pthread_mutex_lock(&a->lock);
        a->quit = 1;
        pthread_cond_broadcast(&a->changed);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->sender, NULL);
        a->sender_on = 0;
    }
summary : {
    static struct spooled left[MAX_SPOOL];
    size_t pending = list_spool(a, left, MAX_SPOOL);
    printf("shipped %llu events in %llu batches: %llu accepted, %llu duplicate, %llu "
           "skipped (not NTLM), %llu rejected; %zu batch%s waiting in %s%s\n",
           (unsigned long long)a->shipped, (unsigned long long)a->batches,
           (unsigned long long)a->accepted, (unsigned long long)a->duplicates,
           (unsigned long long)a->skipped, (unsigned long long)(a->rejected + a->refused), pending,
           pending == 1 ? "" : "es", spool,
           a->failed_batches ? " (some batches were refused by the server)" : "");
    if (pending || a->failed_batches || a->fatal || stop_requested) {
        exit_code = 1;
    }
}
out:
    if (a->curl) {
        curl_easy_cleanup(a->curl);
        curl_global_cleanup();
    }
    if (lockfd >= 0) {
        close(lockfd);
    }
    for (int k = 0; k < a->nfiles; k++) {
        free(a->files[k].path);
    }
    ns_batch_writer_free(&a->batch);
    memset(a->auth, 0, sizeof(a->auth));
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->changed);
    free(a);
    return exit_code;
}
