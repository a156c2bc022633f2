/*
 * ingest.c - the parser sink that stores events and counts stored, duplicate, skipped and
 * rejected events. Shared by `ntlmscope ingest`, `demo` and the server.
 */
#include "ns_store.h"

static int on_event(void *ctx, const struct ns_event *ev)
{
    struct ns_ingest *in = ctx;
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
