/*
 * parse_only.c - ntlmscope's own parse path without the store: the collector reads event XML
 * (or NDJSON, EVTX), normalizes every event to the canonical event and hands it to a sink
 * that only counts it. Between the SAX2 parse limit (ns-bench-sax) and `ntlmscope ingest`,
 * it tells how much of ingest's time is parsing and how much storing.
 *
 * usage: ns-bench-parse FILE      prints: events seconds
 */
#include <stdio.h>
#include <time.h>

#include "ns_parser.h"

static int count(void *ctx, const struct ns_event *ev)
{
    (void)ev;
    ++*(long *)ctx;
    return NS_OK;
}

int main(int argc, char **argv)
{
    struct ns_sink sink = {0};
    struct timespec t0, t1;
    char err[256];
    long events = 0;
    int rc;
    if (argc != 2) {
        fputs("usage: ns-bench-parse FILE\n", stderr);
        return 2;
    }
    sink.ctx = &events;
    sink.on_event = count;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = ns_parse_path(argv[1], NS_FMT_AUTO, &sink, NULL, NULL, err, sizeof(err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != NS_OK) {
        fprintf(stderr, "ns-bench-parse: %s\n", err);
        return 1;
    }
    printf("%ld %.3f\n", events,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
