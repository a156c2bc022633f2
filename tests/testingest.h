/*
 * testingest.h - a helper shared by the unit tests that store events: a buffer fed through
 * the parser into the store and committed.
 */
#ifndef NS_TESTINGEST_H
#define NS_TESTINGEST_H

#include "ns_store.h"
#include "testutil.h"

/* Feeds a buffer through the parser into the store, commits, and returns the counts. */
static inline struct ns_ingest_counts ingest_buf(struct ns_store *st, enum ns_format fmt,
                                                 const char *data, size_t len)
{
    struct ns_ingest in;
    struct ns_sink sink;
    struct ns_parser *p = NULL;
    ns_ingest_init(&in, st, NULL, NULL);
    sink = ns_ingest_sink(&in);
    assert_int_equal(ns_parser_new(&p, fmt, "test", &sink), NS_OK);
    assert_int_equal(ns_parser_feed(p, data, len), NS_OK);
    assert_int_equal(ns_parser_finish(p), NS_OK);
    ns_parser_free(p);
    assert_int_equal(in.db_rc, NS_OK);
    assert_int_equal(ns_store_commit(st), NS_OK);
    return in.n;
}

#endif
