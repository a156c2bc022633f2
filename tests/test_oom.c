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
#include "testingest.h"
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

/* Removes database path (and its WAL and shared memory) and its directory dir. */
static void remove_db(const char *path, const char *dir)
{
    char p2[80];
    snprintf(p2, sizeof(p2), "%s-wal", path);
    unlink(p2);
    snprintf(p2, sizeof(p2), "%s-shm", path);
    unlink(p2);
    unlink(path);
    rmdir(dir);
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
    remove_db(path, dir);
    ns_buf_free(&xml);
    ns_buf_free(&json);
}

/* Writes a view's rows into a fixed buffer (allocating nothing itself). */
struct answer {
    char text[4096]; /* the rows, cell by cell */
    size_t len;
};

static int answer_row(void *ctx, int ncol, const char *const *names, const struct ns_cell *cells)
{
    struct answer *a = ctx;
    (void)names;
    for (int c = 0; cells && c < ncol && a->len < sizeof(a->text); c++) {
        int n = cells[c].type == NS_CELL_TEXT
                    ? snprintf(a->text + a->len, sizeof(a->text) - a->len, "%s|", cells[c].s)
                    : snprintf(a->text + a->len, sizeof(a->text) - a->len, "%lld|",
                               (long long)cells[c].i);
        a->len += n > 0 ? (size_t)n : 0;
    }
    if (a->len < sizeof(a->text)) {
        a->text[a->len++] = '\n';
    }
    return NS_OK;
}

/* The grouping views (store/group.c) and a dependency view, over every day, one of two days
 * and with a filter, on a connection of their own each time: whatever allocation fails,
 * each answers what it answers without failures or fails cleanly. */
static void test_views_survive_every_failure(void **state)
{
    static const char *const views[] = {"accounts", "targets", "readiness", "totals",
                                        "dependencies"};
    struct ns_buf xml;
    struct answer want[3][5];
    char dir[] = "/tmp/ns-oom-XXXXXX", path[64], err[256];
    struct ns_store *st = NULL;
    long total = 0;
    (void)state;
    ns_buf_init(&xml, 0);
    for (int k = 0; k < 8; k++) {
        char when[40];
        snprintf(when, sizeof(when), "2026-03-%02dT01:00:0%dZ", 12 + k % 2, k);
        xml_event(&xml, NTLM_PROV, NTLM_CH, 4020, k % 3 ? "WS01" : "WS02", k + 1, when, "Username",
                  k % 2 ? "alice" : "Bob", "DomainName", "CORP", "TargetMachine",
                  k % 4 ? "FS01" : "SQL01", "TargetService", "cifs/FS01", "NtlmVersion",
                  k % 3 ? "NTLMv2" : "NTLMv1", NULL);
    }
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/v.db", dir);
    assert_int_equal(ns_store_open(&st, path, err, sizeof(err)), NS_OK);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 8);
    assert_int_equal(ns_store_close(st), NS_OK);
    for (long n = 0; n == 0 || n <= total; n++) {
        alloc_count = 0;
        fail_at = n == 0 ? 1L << 40 : n;
        st = NULL;
        if (ns_store_open_readonly(&st, path, err, sizeof(err)) != NS_OK) {
            assert_true(n > 0);
            assert_null(st);
            continue;
        }
        for (int r = 0; r < 3; r++) {
            struct ns_view_params p;
            ns_view_params_init(&p);
            if (r == 1) {
                assert_int_equal(ns_parse_date("2026-03-13", &p.since_day), NS_OK);
                p.until_day = p.since_day;
            } else if (r == 2) {
                p.filter[NS_Q_CLIENT] = "ws01";
            }
            for (int v = 0; v < 5; v++) {
                struct answer got;
                int rc;
                got.len = 0;
                rc = ns_store_view(st, views[v], &p, answer_row, &got);
                if (n == 0) {
                    assert_int_equal(rc, NS_OK);
                    assert_true(got.len > 1);
                    want[r][v] = got;
                } else if (rc == NS_OK) {
                    assert_int_equal(got.len, want[r][v].len);
                    assert_memory_equal(got.text, want[r][v].text, got.len);
                } else {
                    assert_true(rc == NS_ENOMEM || rc == NS_EDB);
                }
            }
        }
        if (n == 0) {
            total = alloc_count;
        }
        fail_at = -1;
        ns_store_close(st);
    }
    fail_at = -1;
    remove_db(path, dir);
    ns_buf_free(&xml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parsers_survive_every_failure),
        cmocka_unit_test(test_store_survives_every_failure),
        cmocka_unit_test(test_views_survive_every_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
