/*
 * test_oom.c - every allocation of ours can fail: the Nth malloc/calloc/realloc made by the
 * collector, store and report code fails, for every N a small ingest makes. Nothing may
 * crash or leak (AddressSanitizer watches), and what does complete must be right.
 * Linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc (libraries outside the
 * project are not affected).
 */
#include <stdio.h>
#include <unistd.h>

#include "ns_report.h"
#include "testutil.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);

static long alloc_count;  /* allocations since the counter was armed */
static long fail_at = -1; /* the allocation that fails, -1: none */

static int should_fail(void)
{
    return fail_at >= 0 && ++alloc_count == fail_at;
}

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    return should_fail() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}

/* Counts what arrives, allocating nothing itself. */
struct counts {
    size_t events, skipped, rejected; /* deliveries */
};

static int count_event(void *ctx, const struct ns_event *ev)
{
    (void)ev;
    ((struct counts *)ctx)->events++;
    return NS_OK;
}

static void count_skip(void *ctx, const struct ns_raw *raw)
{
    (void)raw;
    ((struct counts *)ctx)->skipped++;
}

static void count_reject(void *ctx, const char *s, const char *w, const char *y)
{
    (void)s;
    (void)w;
    (void)y;
    ((struct counts *)ctx)->rejected++;
}

static void make_input(struct ns_buf *xml, struct ns_buf *json)
{
    ns_buf_init(xml, 0);
    ns_buf_init(json, 0);
    for (int k = 0; k < 6; k++) {
        char when[40];
        snprintf(when, sizeof(when), "2026-03-12T01:00:0%d.1234567Z", k);
        xml_event(xml, NTLM_PROV, NTLM_CH, k % 2 ? 4020 : 8002, "WS01", k + 1, when, "Username",
                  "alice", "ClientUserName", "bob", "TargetName", "cifs/fs01.corp", "Unknown", "x",
                  NULL);
        ns_buf_printf(json,
                      "{\"system\":{\"provider\":\"Microsoft-Windows-NTLM\",\"event_id\":8001,"
                      "\"time_created\":\"2026-03-12T01:00:0%dZ\",\"event_record_id\":%d,"
                      "\"computer\":\"WS02\"},\"event_data\":{\"UserName\":\"u%d\"}}\n",
                      k, k + 100, k);
    }
}

static void test_parsers_survive_every_failure(void **state)
{
    struct ns_buf xml, json;
    (void)state;
    make_input(&xml, &json);
    for (int pass = 0; pass < 2; pass++) {
        const struct ns_buf *in = pass ? &json : &xml;
        long n, total;
        /* count the allocations of a clean run */
        alloc_count = 0;
        fail_at = 1L << 40;
        {
            struct counts c = {0, 0, 0};
            struct ns_sink sink = {&c, count_event, count_skip, count_reject};
            struct ns_parser *p = NULL;
            assert_int_equal(ns_parser_new(&p, NS_FMT_AUTO, "oom", &sink), NS_OK);
            assert_int_equal(ns_parser_feed(p, in->data, in->len), NS_OK);
            assert_int_equal(ns_parser_finish(p), NS_OK);
            ns_parser_free(p);
            assert_int_equal(c.events, 6);
        }
        total = alloc_count;
        assert_true(total > 5);
        for (n = 1; n <= total; n++) {
            struct counts c = {0, 0, 0};
            struct ns_sink sink = {&c, count_event, count_skip, count_reject};
            struct ns_parser *p = NULL;
            int rc;
            alloc_count = 0;
            fail_at = n;
            rc = ns_parser_new(&p, NS_FMT_AUTO, "oom", &sink);
            if (rc == NS_OK) {
                rc = ns_parser_feed(p, in->data, in->len);
            }
            if (rc == NS_OK) {
                rc = ns_parser_finish(p);
            }
            ns_parser_free(p);
            /* an event is delivered whole or reported; never more than were there */
            assert_true(c.events + c.rejected <= 6 + 1);
            assert_true(rc == NS_OK || rc == NS_ENOMEM || rc == NS_ETOOBIG);
        }
        fail_at = -1;
    }
    ns_buf_free(&xml);
    ns_buf_free(&json);
}

static void test_store_survives_every_failure(void **state)
{
    struct ns_buf xml, json;
    char dir[] = "/tmp/ns-oom-XXXXXX", path[64], err[256];
    long total = 0;
    (void)state;
    make_input(&xml, &json);
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/o.db", dir);
    for (long n = 0; n == 0 || n <= total; n++) {
        struct ns_store *st = NULL;
        struct ns_ingest in;
        struct ns_sink sink;
        struct ns_parser *p = NULL;
        int rc;
        unlink(path);
        alloc_count = 0;
        fail_at = n == 0 ? 1L << 40 : n;
        rc = ns_store_open(&st, path, err, sizeof(err));
        if (rc == NS_OK) {
            ns_ingest_init(&in, st, NULL, NULL);
            sink = ns_ingest_sink(&in);
            rc = ns_parser_new(&p, NS_FMT_XML, "oom", &sink);
            if (rc == NS_OK) {
                rc = ns_parser_feed(p, xml.data, xml.len);
            }
            if (rc == NS_OK) {
                rc = ns_parser_finish(p);
            }
            ns_parser_free(p);
            if (rc == NS_OK && in.db_rc == NS_OK) {
                rc = ns_store_commit(st);
            } else {
                ns_store_rollback(st);
            }
            if (n == 0) {
                assert_int_equal(rc, NS_OK);
                assert_int_equal(in.n.stored, 6);
            }
            ns_store_close(st);
        } else {
            assert_null(st);
        }
        if (n == 0) {
            total = alloc_count;
        }
    }
    fail_at = -1;
    {
        char p2[80];
        snprintf(p2, sizeof(p2), "%s-wal", path);
        unlink(p2);
        snprintf(p2, sizeof(p2), "%s-shm", path);
        unlink(p2);
    }
    unlink(path);
    rmdir(dir);
    ns_buf_free(&xml);
    ns_buf_free(&json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parsers_survive_every_failure),
        cmocka_unit_test(test_store_survives_every_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
