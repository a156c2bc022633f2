/*
 * test_report.c - renderers: CSV neutralises formulas and quotes per RFC 4180, HTML escapes
 * everything, JSON is valid with the view's keys; hostile names survive as text.
 */
#include <stdio.h>
#include <unistd.h>

#include <jansson.h>

#include "ns_report.h"
#include "ns_summary.h"
#include "testingest.h"
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

static int atoi_safe(const char *s)
{
    int64_t v = 0;
    assert_int_equal(ns_parse_int(s, &v), NS_OK);
    return (int)v;
}

static struct ns_store *hostile_store(char *dir, char *path)
{
    struct ns_store *st = NULL;
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
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 2);
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

/* ========================================================================================== */
/* Mail                                                                                        */
/* ========================================================================================== */

static int b64val(char c)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(a, c);
    return c && p ? (int)(p - a) : -1;
}

/* Decodes base64 (no line breaks) into out; returns its length. */
static size_t unbase64(const char *in, size_t n, char *out)
{
    size_t o = 0;
    unsigned v = 0;
    int bits = 0;
    for (size_t k = 0; k < n && in[k] != '='; k++) {
        int d = b64val(in[k]);
        if (d < 0) {
            continue;
        }
        v = v << 6 | (unsigned)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(v >> bits & 0xFF);
        }
    }
    out[o] = '\0';
    return o;
}

static void test_mail_message(void **state)
{
    struct ns_mail m;
    struct ns_buf msg;
    char err[256], decoded[512] = "";
    const char *subject = "NTLM weekly summary \xe2\x80\x93 week ending 2026-11-22: "
                          "1,234 events, Müller and 山田 still on NTLMv1";
    const char *p;
    size_t used = 0;
    (void)state;
    memset(&m, 0, sizeof(m));
    m.from = "ntlmscope@corp.example.com";
    m.to[m.nto++] = "secops@corp.example.com";
    m.to[m.nto++] = "it-lead@corp.example.com";
    ns_buf_init(&msg, 0);
    assert_int_equal(ns_mail_build(&m, subject, "text body ü", "<p>html body ü</p>",
                                   1795500000, &msg, err, sizeof(err)),
                     NS_OK);
    assert_non_null(strstr(msg.data, "From: ntlmscope@corp.example.com\r\n"));
    assert_non_null(strstr(msg.data, "To: secops@corp.example.com,\r\n it-lead@corp.example.com"));
    assert_non_null(strstr(msg.data, "Date: "));
    assert_non_null(strstr(msg.data, "+0000\r\n"));
    assert_non_null(strstr(msg.data, "Message-ID: <"));
    assert_non_null(strstr(msg.data, "Content-Type: multipart/alternative; boundary="));
    assert_non_null(strstr(msg.data, "Content-Type: text/plain; charset=utf-8"));
    assert_non_null(strstr(msg.data, "Content-Type: text/html; charset=utf-8"));
    /* every line ends in CRLF and is short */
    for (const char *line = msg.data; *line;) {
        const char *nl = strstr(line, "\r\n");
        assert_non_null(nl);
        assert_true(nl - line <= 78);
        line = nl + 2;
    }
    /* the subject: encoded-words that decode to the original */
    p = strstr(msg.data, "Subject: ") + 9;
    while (*p == '=' && p[1] == '?') {
        const char *start = p + strlen("=?UTF-8?B?"), *end = strstr(start, "?=");
        assert_true(end - p <= 75);
        used += unbase64(start, (size_t)(end - start), decoded + used);
        p = end + 2;
        if (!strncmp(p, "\r\n ", 3)) {
            p += 3;
        }
    }
    assert_string_equal(decoded, subject);
    ns_buf_free(&msg);
}

static void test_mail_header_injection_refused(void **state)
{
    struct ns_mail m;
    struct ns_buf msg;
    char err[256];
    static const char *const bad_to[] = {"a@b.c\r\nBcc: evil@x.y", "a@b.c\nBcc: evil@x.y",
                                         "a b@c.d", "<a@b.c>", "nobody", "a@b@c", "a@b.c,d@e.f"};
    (void)state;
    memset(&m, 0, sizeof(m));
    m.from = "ntlmscope@corp.example.com";
    for (size_t k = 0; k < sizeof(bad_to) / sizeof(bad_to[0]); k++) {
        m.nto = 0;
        m.to[m.nto++] = bad_to[k];
        ns_buf_init(&msg, 0);
        assert_int_equal(ns_mail_build(&m, "s", "t", "h", 0, &msg, err, sizeof(err)), NS_EINVAL);
        assert_int_equal(msg.len, 0);
        ns_buf_free(&msg);
    }
    m.nto = 0;
    m.to[m.nto++] = "ok@corp.example.com";
    ns_buf_init(&msg, 0);
    assert_int_equal(ns_mail_build(&m, "subject\r\nBcc: evil@x.y", "t", "h", 0, &msg, err,
                                   sizeof(err)),
                     NS_EINVAL);
    m.from = "a@b.c\nX-Evil: 1";
    assert_int_equal(ns_mail_build(&m, "s", "t", "h", 0, &msg, err, sizeof(err)), NS_EINVAL);
    assert_int_equal(msg.len, 0);
    ns_buf_free(&msg);
}

/* ========================================================================================== */
/* Schedule, with a clock the test sets                                                        */
/* ========================================================================================== */

static time_t local_time(int y, int mo, int d, int h, int mi)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_isdst = -1;
    return mktime(&tm);
}

static void expect_due(const struct ns_schedule *s, time_t now, const char *week)
{
    char got[16];
    ns_format_date(ns_schedule_due(s, now), got);
    assert_string_equal(got, week);
}

static void test_schedule(void **state)
{
    struct ns_schedule s;
    int64_t d;
    (void)state;
    assert_int_equal(ns_schedule_parse("Mon 07:00", &s), NS_OK);
    assert_int_equal(s.weekday, 1);
    assert_int_equal(ns_schedule_parse("friday 17:30", &s), NS_OK);
    assert_int_equal(s.weekday, 5);
    assert_int_not_equal(ns_schedule_parse("Mon 7", &s), NS_OK);
    assert_int_not_equal(ns_schedule_parse("Someday 07:00", &s), NS_OK);
    assert_int_not_equal(ns_schedule_parse("Mon 24:00", &s), NS_OK);
    assert_int_not_equal(ns_schedule_parse("Mon 07:00 extra", &s), NS_OK);
    setenv("TZ", "Europe/Paris", 1);
    tzset();
    ns_schedule_parse("Mon 07:00", &s);
    /* 2026-11-23 is a Monday: before 07:00 the week due is the one before */
    expect_due(&s, local_time(2026, 11, 23, 6, 59), "2026-11-15");
    expect_due(&s, local_time(2026, 11, 23, 7, 0), "2026-11-22");
    expect_due(&s, local_time(2026, 11, 25, 12, 0), "2026-11-22");
    expect_due(&s, local_time(2026, 11, 29, 23, 59), "2026-11-22");
    expect_due(&s, local_time(2026, 11, 30, 7, 1), "2026-11-29");
    /* across the change to summer time (2026-03-29 in Paris) */
    expect_due(&s, local_time(2026, 3, 30, 8, 0), "2026-03-29");
    expect_due(&s, local_time(2026, 3, 30, 6, 0), "2026-03-22");
    setenv("TZ", "America/Los_Angeles", 1);
    tzset();
    expect_due(&s, local_time(2026, 11, 23, 7, 30), "2026-11-22");
    unsetenv("TZ");
    tzset();
    /* the default week: the last full week, Monday to Sunday */
    ns_parse_date("2026-11-22", &d);
    expect_due(&s, 0, "1969-12-28"); /* sanity: a time long ago still gives a Sunday */
    {
        char day[16];
        ns_format_date(ns_last_week_ending(d), day);
        assert_string_equal(day, "2026-11-15");
        ns_parse_date("2026-11-23", &d);
        ns_format_date(ns_last_week_ending(d), day);
        assert_string_equal(day, "2026-11-22");
    }
}

/* ========================================================================================== */
/* Summary numbers on a data set whose answers are computed here                               */
/* ========================================================================================== */

static void test_summary_numbers(void **state)
{
    char dir[] = "/tmp/ns-summary-XXXXXX", path[64], err[256];
    struct ns_store *st = NULL;
    struct ns_buf xml;
    struct ns_summary s;
    int64_t we;
    long rec = 1;
    /* the week before (2026-11-09..15): A->FS01 x10, B->FS02 x4 (NTLMv1), C->OLD01 x3;
     * hosts WS-A, WS-B, WS-C.  This week (2026-11-16..22): A->FS01 x7, D->FS01 x5 (new),
     * B->FS02 x2 (NTLMv1); hosts WS-A, WS-B, WS-D. */
    static const struct {
        const char *client, *user, *target, *version; /* the dependency */
        int day, count;                               /* day of November, events */
    } plan[] = {
        {"WS-A", "alice", "FS01", "NTLMv2", 10, 10}, {"WS-B", "bob", "FS02", "NTLMv1", 11, 4},
        {"WS-C", "carol", "OLD01", "NTLMv2", 12, 3}, {"WS-A", "alice", "FS01", "NTLMv2", 17, 7},
        {"WS-D", "dave", "FS01", "NTLMv2", 18, 5},   {"WS-B", "bob", "FS02", "NTLMv1", 20, 2},
    };
    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/s.db", dir);
    assert_int_equal(ns_store_open(&st, path, err, sizeof(err)), NS_OK);
    ns_buf_init(&xml, 0);
    for (size_t k = 0; k < sizeof(plan) / sizeof(plan[0]); k++) {
        for (int e = 0; e < plan[k].count; e++) {
            char when[40], id[8];
            snprintf(when, sizeof(when), "2026-11-%02dT09:%02d:00Z", plan[k].day, e);
            snprintf(id, sizeof(id), "%d", strcmp(plan[k].version, "NTLMv1") ? 4020 : 4021);
            xml_event(&xml, NTLM_PROV, NTLM_CH, atoi_safe(id), plan[k].client, rec++, when,
                      "Username", plan[k].user, "DomainName", "CORP", "TargetMachine",
                      plan[k].target, "NtlmUsageId", "6", "NtlmVersion", plan[k].version, NULL);
        }
    }
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 31);
    ns_buf_free(&xml);
    ns_parse_date("2026-11-22", &we);
    assert_int_equal(ns_summary_build(st, we, &s), NS_OK);
    assert_int_equal(ns_table_int(&s.now, 0, "events"), 7 + 5 + 2);
    assert_int_equal(ns_table_int(&s.before, 0, "events"), 10 + 4 + 3);
    assert_int_equal(ns_table_int(&s.now, 0, "ntlmv1_events"), 2);
    assert_int_equal(ns_table_int(&s.before, 0, "ntlmv1_events"), 4);
    assert_int_equal(ns_table_int(&s.now, 0, "dependencies"), 3);
    assert_int_equal(ns_table_int(&s.before, 0, "dependencies"), 3);
    assert_int_equal(ns_table_int(&s.now, 0, "hosts"), 3);
    assert_int_equal(s.new_deps.nrows, 1);
    assert_string_equal(ns_table_get(&s.new_deps, 0, "account"), "dave");
    assert_int_equal(ns_table_int(&s.new_deps, 0, "events"), 5);
    assert_int_equal(s.retired.nrows, 1);
    assert_string_equal(ns_table_get(&s.retired, 0, "account"), "carol");
    assert_int_equal(s.quiet.nrows, 1);
    assert_string_equal(ns_table_get(&s.quiet, 0, "target"), "OLD01");
    assert_int_equal(s.silent.nrows, 1);
    assert_string_equal(ns_table_get(&s.silent, 0, "computer"), "WS-C");
    assert_string_equal(ns_table_get(&s.accounts, 0, "account"), "alice");
    assert_int_equal(ns_table_int(&s.accounts, 0, "events"), 7);
    {
        char subject[256];
        ns_summary_subject(&s, subject, sizeof(subject));
        assert_non_null(strstr(subject, "14 events (-3 (-18%))"));
    }
    ns_summary_free(&s);
    assert_int_equal(ns_store_close(st), NS_OK);
    remove_db(dir, path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_cells),   cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_json_string), cmocka_unit_test(test_hostile_names_every_format),
        cmocka_unit_test(test_empty_views),
        cmocka_unit_test(test_mail_message),
        cmocka_unit_test(test_mail_header_injection_refused),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_summary_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
