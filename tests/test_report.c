/*
 * test_report.c - renderers: CSV neutralises formulas and quotes per RFC 4180, HTML escapes
 * everything, JSON is valid with the view's keys; hostile names survive as text.
 */
#include <stdio.h>
#include <unistd.h>

#include <jansson.h>

#include "ns_report.h"
#include "testutil.h"

/* Renders into a memory buffer through a temporary file. */
static char *capture(int (*fn)(FILE *, const char *), const char *s)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    assert_non_null(f);
    assert_int_equal(fn(f, s), NS_OK);
    fclose(f);
    return out;
}

static void test_csv_cells(void **state)
{
    static const struct {
        const char *in;  /* cell text */
        const char *out; /* as written */
    } cases[] = {
        {"plain", "plain"},
        {"=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\""},
        {"+1", "\"'+1\""},
        {"-2+3", "\"'-2+3\""},
        {"@SUM(A1)", "\"'@SUM(A1)\""},
        {"\tx", "\"'\tx\""},
        {"a,b", "\"a,b\""},
        {"say \"hi\"", "\"say \"\"hi\"\"\""},
        {"two\nlines", "\"two\nlines\""},
        {"Müller", "Müller"},
        {"", ""},
    };
    (void)state;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char *got = capture(ns_csv_cell, cases[k].in);
        assert_string_equal(got, cases[k].out);
        free(got);
    }
}

static void test_html_escape(void **state)
{
    char *got;
    (void)state;
    got = capture(ns_html_escape, "<img src=x onerror=alert(1)> & \"'");
    assert_string_equal(got, "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;&#39;");
    free(got);
}

static void test_json_string(void **state)
{
    char *got;
    (void)state;
    got = capture(ns_json_string, "a\"b\\c\n\x01 ü \xff end");
    assert_string_equal(got, "\"a\\\"b\\\\c\\u000a\\u0001 ü \\ufffd end\"");
    free(got);
}

/* ========================================================================================== */

static struct ns_store *hostile_store(char *dir, char *path)
{
    struct ns_store *st = NULL;
    struct ns_ingest in;
    struct ns_sink sink;
    struct ns_parser *p = NULL;
    struct ns_buf xml;
    char err[256], long_name[301];
    memset(long_name, 'x', 300);
    long_name[300] = '\0';
    snprintf(dir, 64, "/tmp/ns-report-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, 128, "%s/r.db", dir);
    assert_int_equal(ns_store_open(&st, path, err, sizeof(err)), NS_OK);
    ns_buf_init(&xml, 0);
    xml_event(&xml, NTLM_PROV, NTLM_CH, 4022, "FS01", 1, "2026-03-12T01:00:00Z", "Username",
              "&lt;img src=x onerror=alert(1)&gt;", "RemoteClientMachine", "=cmd|' /C calc'!A0",
              "DomainName", "дом\"ен", "ProcessName", long_name, NULL);
    xml_event(&xml, NTLM_PROV, NTLM_CH, 4020, "WS01", 2, "2026-03-12T02:00:00Z", "Username",
              "@evil", "TargetMachine", "+fs01", "NtlmUsageId", "11", "NtlmVersion", "NTLMv1",
              NULL);
    ns_ingest_init(&in, st, NULL, NULL);
    sink = ns_ingest_sink(&in);
    assert_int_equal(ns_parser_new(&p, NS_FMT_XML, "t", &sink), NS_OK);
    assert_int_equal(ns_parser_feed(p, xml.data, xml.len), NS_OK);
    assert_int_equal(ns_parser_finish(p), NS_OK);
    ns_parser_free(p);
    assert_int_equal(ns_store_commit(st), NS_OK);
    assert_int_equal(in.n.stored, 2);
    ns_buf_free(&xml);
    return st;
}

static char *render(struct ns_store *st, const char *view, enum ns_report_format fmt)
{
    char *out = NULL;
    size_t len = 0;
    struct ns_view_params p;
    FILE *f = open_memstream(&out, &len);
    ns_view_params_init(&p);
    assert_int_equal(ns_report_render(st, view, &p, fmt, f), NS_OK);
    fclose(f);
    return out;
}

static void remove_db(const char *dir, const char *path)
{
    char p[160];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof(p), "%s%s", path, suffix[k]);
        unlink(p);
    }
    rmdir(dir);
}

static void test_hostile_names_every_format(void **state)
{
    char dir[64], path[128];
    struct ns_store *st = hostile_store(dir, path);
    const char *const *views = ns_store_views();
    (void)state;
    for (int v = 0; views[v]; v++) {
        char *html = render(st, views[v], NS_REP_HTML);
        char *csv = render(st, views[v], NS_REP_CSV);
        char *js = render(st, views[v], NS_REP_JSON);
        char *tab = render(st, views[v], NS_REP_TABLE);
        json_error_t jerr;
        json_t *parsed = json_loads(js, 0, &jerr);
        /* HTML: no live markup from the data */
        assert_null(strstr(html, "<img"));
        assert_null(strstr(html, "<script"));
        /* CSV: no cell starts with a formula character */
        assert_null(strstr(csv, ",=cmd"));
        assert_null(strstr(csv, "\n=cmd"));
        assert_null(strstr(csv, ",@evil"));
        assert_null(strstr(csv, ",+fs01"));
        assert_true(!strncmp(csv, "\xEF\xBB\xBF", 3));
        /* JSON parses */
        if (!parsed) {
            fail_msg("view %s: invalid JSON: %s", views[v], jerr.text);
        }
        assert_true(json_is_array(parsed));
        json_decref(parsed);
        /* the table has a header and a row count */
        assert_non_null(strstr(tab, "row"));
        free(html);
        free(csv);
        free(js);
        free(tab);
    }
    {
        char *html = render(st, "dependencies", NS_REP_HTML);
        char *csv = render(st, "dependencies", NS_REP_CSV);
        char *js = render(st, "dependencies", NS_REP_JSON);
        assert_non_null(strstr(html, "&lt;img src=x onerror=alert(1)&gt;"));
        assert_non_null(strstr(csv, "\"'=CMD|' /C CALC'!A0\"")); /* rollups upper-case host names */
        assert_non_null(strstr(csv, "\"'@evil\""));
        assert_non_null(strstr(js, "\"<img src=x onerror=alert(1)>\""));
        assert_non_null(strstr(js, "\"дом\\\"ен\""));
        free(html);
        free(csv);
        free(js);
    }
    assert_int_equal(ns_store_close(st), NS_OK);
    remove_db(dir, path);
}

static void test_empty_views(void **state)
{
    char dir[64], path[128], err[256];
    struct ns_store *st = NULL;
    char *out;
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/ns-report-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/e.db", dir);
    assert_int_equal(ns_store_open(&st, path, err, sizeof(err)), NS_OK);
    out = render(st, "dependencies", NS_REP_JSON);
    assert_string_equal(out, "[]\n");
    free(out);
    out = render(st, "dependencies", NS_REP_CSV);
    assert_non_null(strstr(out, "client,client_ip,account"));
    free(out);
    out = render(st, "accounts", NS_REP_HTML);
    assert_non_null(strstr(out, "No NTLM activity"));
    free(out);
    out = render(st, "trend", NS_REP_TABLE);
    assert_non_null(strstr(out, "(0 rows)"));
    free(out);
    assert_int_equal(ns_store_close(st), NS_OK);
    remove_db(dir, path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_cells),   cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_json_string), cmocka_unit_test(test_hostile_names_every_format),
        cmocka_unit_test(test_empty_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
