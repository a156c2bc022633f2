/*
 * test_store.c - storage: each event stored once (across batches, files and formats),
 * rollups equal to what the raw events say (computed here, not copied from the output),
 * migrations, and the exact keys of every view of DESIGN.md.
 */
#include <ctype.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "ns_sql.h"
#include "ns_store.h"
#include "testingest.h"
#include "testutil.h"

/* A fresh database path in a temporary directory. */
struct tmpdb {
    char dir[64];   /* the directory */
    char path[128]; /* the database file */
};

static void tmpdb_make(struct tmpdb *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/ns-test-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/t.db", t->dir);
}

static void tmpdb_remove(struct tmpdb *t)
{
    char p[160];
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof(p), "%s%s", t->path, suffix[k]);
        unlink(p);
    }
    rmdir(t->dir);
}

/* Collects a view as a jansson array of objects (times as ISO text). */
static int to_json_row(void *ctx, int ncol, const char *const *names, const struct ns_cell *cells)
{
    json_t *arr = ctx, *obj;
    char buf[32];
    if (!cells) {
        return NS_OK;
    }
    obj = json_object();
    for (int c = 0; c < ncol; c++) {
        json_t *v;
        switch (cells[c].type) {
        case NS_CELL_NULL:
            v = json_null();
            break;
        case NS_CELL_INT:
            v = json_integer(cells[c].i);
            break;
        case NS_CELL_TEXT:
            v = json_string(cells[c].s);
            break;
        case NS_CELL_TIME:
            ns_format_time(cells[c].i, buf);
            v = json_string(buf);
            break;
        default:
            ns_format_date(cells[c].i, buf);
            v = json_string(buf);
        }
        json_object_set_new(obj, names[c], v);
    }
    json_array_append_new(arr, obj);
    return NS_OK;
}

/* The one integer a query returns. */
static int64_t sql_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    int64_t v;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static json_t *view(struct ns_store *st, const char *name, const struct ns_view_params *p)
{
    json_t *arr = json_array();
    struct ns_view_params all;
    if (!p) {
        ns_view_params_init(&all);
        p = &all;
    }
    assert_int_equal(ns_store_view(st, name, p, to_json_row, arr), NS_OK);
    return arr;
}

/* ========================================================================================== */

static void test_duplicates_across_files_and_formats(void **state)
{
    struct tmpdb t;
    struct ns_store *st = NULL;
    char err[256];
    struct ns_buf xml;
    struct ns_ingest_counts n;
    static const char json[] =
        "{\"system\":{\"provider\":\"Microsoft-Windows-NTLM\",\"event_id\":8001,"
        "\"time_created\":\"2026-03-12T01:00:00.1234567+00:00\",\"event_record_id\":1,"
        "\"channel\":\"Microsoft-Windows-NTLM/Operational\",\"computer\":\"WS01\"},"
        "\"event_data\":{\"UserName\":\"alice\",\"TargetName\":\"cifs/fs01\"}}\n"
        "{\"system\":{\"provider\":\"Microsoft-Windows-NTLM\",\"event_id\":8001,"
        "\"time_created\":\"2026-03-12T01:00:09Z\",\"event_record_id\":9,"
        "\"channel\":\"Microsoft-Windows-NTLM/Operational\",\"computer\":\"WS01\"},"
        "\"event_data\":{\"UserName\":\"alice\",\"TargetName\":\"cifs/fs01\"}}\n";
    json_t *deps;
    (void)state;
    tmpdb_make(&t);
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    ns_buf_init(&xml, 0);
    xml_event(&xml, NTLM_PROV, NTLM_CH, 8001, "WS01", 1, "2026-03-12T01:00:00.1234567Z", "UserName",
              "alice", "TargetName", "cifs/fs01", NULL);
    xml_event(&xml, NTLM_PROV, NTLM_CH, 8001, "WS01", 2, "2026-03-12T01:00:01Z", "UserName",
              "alice", "TargetName", "cifs/fs01", NULL);
    /* the same event twice in one batch */
    xml_event(&xml, NTLM_PROV, NTLM_CH, 8001, "WS01", 2, "2026-03-12T01:00:01Z", "UserName",
              "alice", "TargetName", "cifs/fs01", NULL);
    n = ingest_buf(st, NS_FMT_XML, xml.data, xml.len);
    assert_int_equal(n.stored, 2);
    assert_int_equal(n.duplicates, 1);
    /* the same file again (an agent retrying) */
    n = ingest_buf(st, NS_FMT_XML, xml.data, xml.len);
    assert_int_equal(n.stored, 0);
    assert_int_equal(n.duplicates, 3);
    /* record 1 again, as JSON with a differently written time; record 9 is new */
    n = ingest_buf(st, NS_FMT_JSON, json, sizeof(json) - 1);
    assert_int_equal(n.stored, 1);
    assert_int_equal(n.duplicates, 1);
    deps = view(st, "dependencies", NULL);
    assert_int_equal(json_array_size(deps), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(deps, 0), "events")), 3);
    json_decref(deps);
    ns_buf_free(&xml);
    assert_int_equal(ns_store_close(st), NS_OK);
    tmpdb_remove(&t);
}

/* One generated event and the dependency it belongs to. */
struct gen_event {
    int client, account, process, target, reason, v1, day, level, blocked; /* choices */
};

/* SQL that takes the exception-list and host rollups back to their schema 13 form (text
 * keys), as a database written before schema 14 holds them. */
static const char v13_rollups[] =
    "CREATE TABLE e13 (day INTEGER NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL COLLATE "
    "NOCASE, client TEXT NOT NULL DEFAULT '' COLLATE NOCASE, account TEXT NOT NULL DEFAULT '' "
    "COLLATE NOCASE, domain TEXT NOT NULL DEFAULT '' COLLATE NOCASE, events INTEGER NOT NULL, "
    "first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, PRIMARY KEY (day, kind, name, "
    "client, account, domain)) WITHOUT ROWID;"
    "INSERT INTO e13 SELECT e.day, k.s, w.s, COALESCE(c.s, ''), "
    "COALESCE(substr(a.s, 1, instr(a.s, char(31)) - 1), ''), "
    "COALESCE(substr(a.s, instr(a.s, char(31)) + 1), ''), e.events, e.first_seen, e.last_seen "
    "FROM exc_daily e JOIN str k ON k.id = e.kind JOIN str w ON w.id = e.spelled "
    "LEFT JOIN str c ON c.id = e.client LEFT JOIN str a ON a.id = e.account;"
    "DROP TABLE exc_daily; ALTER TABLE e13 RENAME TO exc_daily;"
    "CREATE TABLE h13 (day INTEGER NOT NULL, computer TEXT NOT NULL, role TEXT NOT NULL, "
    "events INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, "
    "PRIMARY KEY (day, computer, role)) WITHOUT ROWID;"
    "INSERT INTO h13 SELECT h.day, c.s, h.role, h.events, h.first_seen, h.last_seen "
    "FROM host_daily h JOIN str c ON c.id = h.computer;"
    "DROP TABLE host_daily; ALTER TABLE h13 RENAME TO host_daily;"
    "CREATE TABLE t13 (computer TEXT NOT NULL, role TEXT NOT NULL, events INTEGER NOT NULL, "
    "first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, PRIMARY KEY (computer, role)) "
    "WITHOUT ROWID;"
    "INSERT INTO t13 SELECT c.s, h.role, h.events, h.first_seen, h.last_seen "
    "FROM host_total h JOIN str c ON c.id = h.computer;"
    "DROP TABLE host_total; ALTER TABLE t13 RENAME TO host_total;";

#define NGEN 12000

/* Each day's dependencies and events, and those of a few days, through the views over a
 * partial range (ns_dep_range: day packs, or dep_daily's rows for a day without one), against
 * the counts computed from the generated events: bits[k] has bit d when dependency k has
 * events on day d (of days from day0), per_day[d] the events of day d. */
static void check_day_ranges(struct ns_store *st, int64_t day0, const uint32_t *bits, size_t nbits,
                             const long *per_day, int days)
{
    for (int lo = 0; lo < days; lo++) {
        for (int hi = lo; hi < days && hi < lo + 5; hi += 4) { /* one day, and five */
            struct ns_view_params p;
            uint32_t window = (uint32_t)(((1ull << (hi + 1)) - 1) & ~((1ull << lo) - 1));
            long deps = 0, events = 0, sum = 0;
            json_t *rows, *row;
            size_t i;
            for (size_t k = 0; k < nbits; k++) {
                deps += (bits[k] & window) != 0;
            }
            for (int d = lo; d <= hi; d++) {
                events += per_day[d];
            }
            ns_view_params_init(&p);
            p.since_day = day0 + lo;
            p.until_day = day0 + hi;
            p.limit = 100000;
            rows = view(st, "dependencies", &p);
            json_array_foreach(rows, i, row)
            {
                sum += (long)json_integer_value(json_object_get(row, "events"));
            }
            assert_int_equal((long)json_array_size(rows), deps);
            assert_int_equal(sum, events);
            json_decref(rows);
        }
    }
}

static void test_rollups_match_raw_events(void **state)
{
    static const char *const clients[] = {"WS01", "ws01.corp.example.com", "WS02", "10.0.0.9"};
    static const char *const accounts[] = {"alice", "ALICE", "bob", "svc_backup"};
    static const char *const processes[] = {"explorer.exe", "backup.exe", "chrome.exe"};
    static const char *const targets[] = {"FS01", "fs01.corp.example.com", "SQL01", "10.0.0.5"};
    /* canonical names: WS01 and its DNS name are one client; alice and ALICE one account */
    static const int client_key[] = {0, 0, 1, 2};
    static const int account_key[] = {0, 0, 1, 2};
    static const int target_key[] = {0, 0, 1, 2};
    static long expect[3][3][3][3][12][2]; /* client, account, process, target, reason, v1 */
    static long expect_day[20], expect_v1_day[20], expect_warn_day[20], expect_block_day[20];
    static uint32_t seen_days[3][3][3][3][12][2];   /* bit d: the dependency has events on day d */
    static long acc_events[3];                      /* per account key */
    static unsigned acc_clients[3], acc_targets[3]; /* bit k: client / target key k seen */
    struct tmpdb t;
    struct ns_store *st = NULL;
    char err[256];
    struct ns_buf xml;
    uint64_t r = 42;
    size_t rows = 0;
    json_t *deps, *trend, *row;
    size_t i;
    struct ns_ingest_counts n;
    long total = 0;
    (void)state;
    memset(expect, 0, sizeof(expect));
    memset(seen_days, 0, sizeof(seen_days));
    memset(acc_events, 0, sizeof(acc_events));
    memset(acc_clients, 0, sizeof(acc_clients));
    memset(acc_targets, 0, sizeof(acc_targets));
    tmpdb_make(&t);
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    ns_buf_init(&xml, 0);
    for (int k = 0; k < NGEN; k++) {
        struct gen_event g;
        char when[40], rid[8], hexpid[16];
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        g.client = (int)((r >> 33) % 4);
        g.account = (int)((r >> 36) % 4);
        g.process = (int)((r >> 39) % 3);
        g.target = (int)((r >> 42) % 4);
        g.reason = (int)((r >> 45) % 12);
        g.v1 = (int)((r >> 50) % 5) == 0;
        g.day = (int)((r >> 53) % 20);
        g.blocked = 0;
        g.level = g.v1 ? 3 : 4;
        snprintf(when, sizeof(when), "2026-03-%02dT10:00:%02d.%06dZ", g.day + 1, k % 60, k);
        snprintf(rid, sizeof(rid), "%d", g.reason);
        snprintf(hexpid, sizeof(hexpid), "0x%x", k);
        ns_buf_printf(&xml,
                      "<Event><System><Provider Name=\"Microsoft-Windows-NTLM\"/>"
                      "<EventID>%d</EventID><Level>%d</Level><TimeCreated SystemTime=\"%s\"/>"
                      "<EventRecordID>%d</EventRecordID>"
                      "<Channel>Microsoft-Windows-NTLM/Operational</Channel>"
                      "<Computer>%s</Computer></System><EventData>"
                      "<Data Name=\"Username\">%s</Data><Data Name=\"DomainName\">CORP</Data>"
                      "<Data Name=\"ProcessName\">%s</Data><Data Name=\"ProcessPID\">%s</Data>"
                      "<Data Name=\"TargetMachine\">%s</Data><Data Name=\"NtlmUsageId\">%s</Data>"
                      "<Data Name=\"NtlmVersion\">%s</Data></EventData></Event>\n",
                      g.v1 ? 4021 : 4020, g.level, when, k + 1, clients[g.client],
                      accounts[g.account], processes[g.process], hexpid, targets[g.target], rid,
                      g.v1 ? "NTLMv1" : "NTLMv2");
        expect[client_key[g.client]][account_key[g.account]][g.process][target_key[g.target]]
              [g.reason][g.v1]++;
        seen_days[client_key[g.client]][account_key[g.account]][g.process][target_key[g.target]]
                 [g.reason][g.v1] |= 1u << g.day;
        acc_events[account_key[g.account]]++;
        acc_clients[account_key[g.account]] |= 1u << client_key[g.client];
        acc_targets[account_key[g.account]] |= 1u << target_key[g.target];
        expect_day[g.day]++;
        expect_v1_day[g.day] += g.v1;
        expect_warn_day[g.day] += g.level == 3;
        expect_block_day[g.day] += g.blocked;
    }
    /* twice: the second pass must change nothing; the first in many batches, whose days are
     * out of order (the burn-down looks back and forth) */
    ns_store_set_batch_limit(st, 997);
    n = ingest_buf(st, NS_FMT_XML, xml.data, xml.len);
    assert_int_equal(n.stored, NGEN);
    n = ingest_buf(st, NS_FMT_XML, xml.data, xml.len);
    assert_int_equal(n.duplicates, NGEN);

    deps = view(st, "dependencies", NULL);
    json_array_foreach(deps, i, row)
    {
        static const char *const ck[] = {"WS01", "WS02", "10.0.0.9"};
        static const char *const tk[] = {"FS01", "SQL01", "10.0.0.5"};
        const char *client = json_string_value(json_object_get(row, "client"));
        const char *account = json_string_value(json_object_get(row, "account"));
        const char *process = json_string_value(json_object_get(row, "process"));
        const char *target = json_string_value(json_object_get(row, "target"));
        const char *ver = json_string_value(json_object_get(row, "ntlm_version"));
        int reason = (int)json_integer_value(json_object_get(row, "reason_id"));
        int c = -1, a = -1, p = -1, tg = -1, v1 = !strcmp(ver, "NTLMv1");
        for (int k = 0; k < 3; k++) {
            c = !strcmp(client, ck[k]) ? k : c;
            tg = !strcmp(target, tk[k]) ? k : tg;
            p = !strcmp(process, processes[k]) ? k : p;
        }
        a = !strcasecmp(account, "alice") ? 0 : !strcmp(account, "bob") ? 1 : 2;
        if (c < 0 || tg < 0 || p < 0) {
            fail_msg("unexpected row %s %s %s %s", client, account, process, target);
        }
        assert_int_equal(json_integer_value(json_object_get(row, "events")),
                         expect[c][a][p][tg][reason][v1]);
        total += (long)json_integer_value(json_object_get(row, "events"));
        expect[c][a][p][tg][reason][v1] = -1; /* each dependency once */
        rows++;
    }
    assert_int_equal(total, NGEN);
    assert_true(rows > 500);
    json_decref(deps);

    trend = view(st, "trend", NULL);
    assert_int_equal(json_array_size(trend), 20);
    json_array_foreach(trend, i, row)
    {
        assert_int_equal(json_integer_value(json_object_get(row, "events")), expect_day[i]);
        assert_int_equal(json_integer_value(json_object_get(row, "ntlmv1_events")),
                         expect_v1_day[i]);
        assert_int_equal(json_integer_value(json_object_get(row, "warnings")), expect_warn_day[i]);
        assert_int_equal(json_integer_value(json_object_get(row, "blocked")), expect_block_day[i]);
    }
    json_decref(trend);

    /* accounts: one row per account whatever its case (integer keys, schema 10), with its
     * distinct clients and targets however they were spelled */
    trend = view(st, "accounts", NULL);
    assert_int_equal(json_array_size(trend), 3);
    json_array_foreach(trend, i, row)
    {
        const char *account = json_string_value(json_object_get(row, "account"));
        int a;
        assert_non_null(account);
        a = !strcasecmp(account, "alice") ? 0 : !strcmp(account, "bob") ? 1 : 2;
        assert_int_equal(json_integer_value(json_object_get(row, "events")), acc_events[a]);
        assert_int_equal(json_integer_value(json_object_get(row, "clients")),
                         __builtin_popcount(acc_clients[a]));
        assert_int_equal(json_integer_value(json_object_get(row, "targets")),
                         __builtin_popcount(acc_targets[a]));
    }
    json_decref(trend);

    /* partial ranges from the day packs; from dep_daily's rows for days without a pack (half
     * the days, then all) */
    {
        const uint32_t *bits = &seen_days[0][0][0][0][0][0];
        size_t nbits = sizeof(seen_days) / sizeof(bits[0]);
        int64_t day0;
        sqlite3 *db;
        assert_int_equal(ns_parse_date("2026-03-01", &day0), NS_OK);
        assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
        /* every day has its whole pack (part 0); the 13 batches appended parts, and a day
         * was packed whole again before its parts reached 8 */
        assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM dep_day_pack WHERE part = 0"), 20);
        assert_true(sql_int(db, "SELECT COUNT(*) FROM dep_day_pack") > 40);
        assert_true(sql_int(db, "SELECT MAX(part) FROM dep_day_pack") < 8);
        check_day_ranges(st, day0, bits, nbits, expect_day, 20);
        assert_int_equal(
            sqlite3_exec(db, "DELETE FROM dep_day_pack WHERE day % 2 = 0", NULL, NULL, NULL),
            SQLITE_OK);
        check_day_ranges(st, day0, bits, nbits, expect_day, 20);
        assert_int_equal(sqlite3_exec(db, "DELETE FROM dep_day_pack", NULL, NULL, NULL), SQLITE_OK);
        check_day_ranges(st, day0, bits, nbits, expect_day, 20);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
    }

    /* the burn-down: per day, dependencies with events in the 7 days up to it */
    trend = view(st, "burndown", NULL);
    assert_int_equal(json_array_size(trend), 20);
    json_array_foreach(trend, i, row)
    {
        uint32_t window = (1u << (i + 1)) - 1;
        long active = 0, active_v1 = 0;
        const uint32_t *bits = &seen_days[0][0][0][0][0][0];
        if (i >= 7) {
            window &= ~((1u << (i - 6)) - 1);
        }
        for (size_t k = 0; k < sizeof(seen_days) / sizeof(bits[0]); k++) {
            active += (bits[k] & window) != 0;
            active_v1 += (k % 2) && (bits[k] & window); /* the last index is v1 */
        }
        assert_int_equal(json_integer_value(json_object_get(row, "active_dependencies")), active);
        assert_int_equal(json_integer_value(json_object_get(row, "active_ntlmv1_dependencies")),
                         active_v1);
    }
    /* a version-7 database gets the same burn-down from schema 8's migration, and the same
     * events behind a dependency through schema 9's index */
    {
        sqlite3 *db;
        json_t *migrated, *drill, *drill_after, *hosts, *hosts_after;
        long host_events = 0;
        int64_t v1_days = 0, v1_days_after = 0;
        struct ns_view_params dp;
        ns_view_params_init(&dp);
        dp.filter[NS_Q_ACCOUNT] = "alice";
        dp.desc = 1;
        dp.limit = 40;
        dp.offset = 15;
        drill = view(st, "events", &dp);
        assert_int_equal(json_array_size(drill), 40);
        /* the hosts over every day read their running totals: every event once (the second
         * pass above stored nothing) */
        hosts = view(st, "hosts", NULL);
        json_array_foreach(hosts, i, row)
        {
            host_events += (long)json_integer_value(json_object_get(row, "events"));
        }
        assert_int_equal(host_events, NGEN);
        assert_int_equal(ns_store_close(st), NS_OK);
        assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
        v1_days = sql_int(db, "SELECT SUM(last_v1_day) FROM dep");
        assert_true(v1_days > 0);
        assert_int_equal(sqlite3_exec(db, v13_rollups, NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "DROP TABLE day_active; ALTER TABLE dep DROP COLUMN "
                                      "last_v1_day; DROP INDEX events_day_dep; CREATE INDEX "
                                      "events_dep ON events (dep, time_created); "
                                      "ALTER TABLE dep DROP COLUMN akey; ALTER TABLE dep DROP "
                                      "COLUMN ckey; ALTER TABLE dep DROP COLUMN tkey; ALTER "
                                      "TABLE dep DROP COLUMN pkey; DROP TABLE host_total; "
                                      "DROP TABLE dep_day_pack; PRAGMA user_version = 7",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
        assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
        migrated = view(st, "burndown", NULL);
        assert_true(json_equal(trend, migrated));
        json_decref(migrated);
        { /* schema 12's upgrade packed every day */
            int64_t day0;
            assert_int_equal(ns_parse_date("2026-03-01", &day0), NS_OK);
            assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
            assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM dep_day_pack"), 20);
            assert_int_equal(sql_int(db, "SELECT SUM(deps) FROM dep_day_pack"),
                             sql_int(db, "SELECT COUNT(*) FROM dep_daily"));
            assert_int_equal(sqlite3_close(db), SQLITE_OK);
            check_day_ranges(st, day0, &seen_days[0][0][0][0][0][0],
                             sizeof(seen_days) / sizeof(seen_days[0][0][0][0][0][0]), expect_day,
                             20);
        }
        drill_after = view(st, "events", &dp);
        assert_true(json_equal(drill, drill_after));
        hosts_after = view(st, "hosts", NULL);
        assert_true(json_equal(hosts, hosts_after));
        json_decref(hosts);
        json_decref(hosts_after);
        json_decref(drill);
        json_decref(drill_after);
        assert_int_equal(ns_store_close(st), NS_OK);
        assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
        v1_days_after = sql_int(db, "SELECT SUM(last_v1_day) FROM dep");
        assert_int_equal(v1_days_after, v1_days);
        assert_int_equal(sqlite3_close(db), SQLITE_OK);
        assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    }
    json_decref(trend);

    /* a day range: 2026-03-05 .. 2026-03-07 */
    {
        struct ns_view_params p;
        long want = expect_day[4] + expect_day[5] + expect_day[6], got = 0;
        json_t *ev;
        ns_view_params_init(&p);
        assert_int_equal(ns_parse_date("2026-03-05", &p.since_day), NS_OK);
        assert_int_equal(ns_parse_date("2026-03-07", &p.until_day), NS_OK);
        deps = view(st, "dependencies", &p);
        json_array_foreach(deps, i, row)
        {
            got += (long)json_integer_value(json_object_get(row, "events"));
        }
        assert_int_equal(got, want);
        json_decref(deps);
        ev = view(st, "events", &p);
        assert_int_equal(json_array_size(ev), want);
        json_decref(ev);
        p.limit = 7;
        ev = view(st, "events", &p);
        assert_int_equal(json_array_size(ev), 7);
        json_decref(ev);
    }
    ns_buf_free(&xml);
    assert_int_equal(ns_store_close(st), NS_OK);
    tmpdb_remove(&t);
}

/* The keys of each view, from DESIGN.md's table. */
static const struct {
    const char *view; /* name */
    const char *keys; /* space-separated keys in order */
} view_keys[] = {
    {"dependencies", "client client_ip account domain process target target_service target_ip "
                     "reason_id ntlm_version events first_seen last_seen"},
    {"accounts", "account domain events ntlmv1_events clients targets first_seen last_seen"},
    {"processes", "process events accounts hosts ntlmv1_events"},
    {"reasons", "reason_id reason events clients targets remediation"},
    {"targets", "target target_service target_ip events accounts clients ntlmv1_events"},
    {"clients", "client client_ip events accounts targets ntlmv1_events"},
    {"ntlmv1", "client client_ip account domain process target target_service target_ip "
               "reason_id ntlm_version events first_seen last_seen"},
    {"hosts", "computer roles events first_seen last_seen"},
    {"trend", "day events ntlmv1_events warnings blocked"},
};

static void test_view_keys(void **state)
{
    struct tmpdb t;
    struct ns_store *st = NULL;
    char err[256];
    struct ns_buf xml;
    (void)state;
    tmpdb_make(&t);
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    ns_buf_init(&xml, 0);
    xml_event(&xml, NTLM_PROV, NTLM_CH, 4021, "WS01", 1, "2026-03-12T01:00:00Z", "Username",
              "alice", "TargetMachine", "FS01", "NtlmUsageId", "7", "NtlmVersion", "NTLMv1", NULL);
    ingest_buf(st, NS_FMT_XML, xml.data, xml.len);
    for (size_t k = 0; k < sizeof(view_keys) / sizeof(view_keys[0]); k++) {
        json_t *rows = view(st, view_keys[k].view, NULL), *row;
        const char *key;
        json_t *v;
        char got[512] = "";
        size_t used = 0;
        assert_int_equal(json_array_size(rows), 1);
        row = json_array_get(rows, 0);
        json_object_foreach(row, key, v)
        {
            (void)v;
            used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", used ? " " : "", key);
        }
        /* jansson keeps insertion order: the view's column order */
        if (strcmp(got, view_keys[k].keys)) {
            fail_msg("view %s keys \"%s\", expected \"%s\"", view_keys[k].view, got,
                     view_keys[k].keys);
        }
        json_decref(rows);
    }
    /* events: every canonical field in order */
    {
        json_t *rows = view(st, "events", NULL), *row = json_array_get(rows, 0);
        const char *key;
        json_t *v;
        int f = 0;
        json_object_foreach(row, key, v)
        {
            (void)v;
            assert_string_equal(key, ns_fields[f].name);
            f++;
        }
        assert_int_equal(f, NS_F_COUNT);
        json_decref(rows);
    }
    /* reasons carry the text and remediation of ntlm-events.md */
    {
        json_t *rows = view(st, "reasons", NULL), *row = json_array_get(rows, 0);
        assert_int_equal(json_integer_value(json_object_get(row, "reason_id")), 7);
        assert_string_equal(json_string_value(json_object_get(row, "reason")),
                            "The target name contains an IP address");
        assert_string_equal(json_string_value(json_object_get(row, "remediation")),
                            "Connect by DNS name, or register an IP-address SPN where supported");
        json_decref(rows);
    }
    ns_buf_free(&xml);
    assert_int_equal(ns_store_close(st), NS_OK);
    tmpdb_remove(&t);
}

static void test_schema_version_checked(void **state)
{
    struct tmpdb t;
    struct ns_store *st = NULL;
    sqlite3 *db;
    char err[256];
    (void)state;
    tmpdb_make(&t);
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ns_store_close(st), NS_OK);
    /* reopening a current database works and keeps the version */
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ns_store_close(st), NS_OK);
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_not_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_null(st);
    assert_non_null(strstr(err, "newer"));
    tmpdb_remove(&t);
}

static void test_unknown_view(void **state)
{
    struct tmpdb t;
    struct ns_store *st = NULL;
    struct ns_view_params p;
    char err[256];
    (void)state;
    tmpdb_make(&t);
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    ns_view_params_init(&p);
    assert_int_equal(ns_store_view(st, "nope; DROP TABLE events", &p, to_json_row, NULL),
                     NS_ENOTFOUND);
    assert_false(ns_store_view_exists("../schema"));
    assert_int_equal(ns_store_close(st), NS_OK);
    tmpdb_remove(&t);
}

/* Stores xml through the two-thread pipeline; returns the counts. */
static struct ns_ingest_counts ingest_piped(struct ns_store *st, const struct ns_buf *xml)
{
    struct ns_ingest in;
    struct ns_sink sink;
    struct ns_parser *p = NULL;
    ns_ingest_init(&in, st, NULL, NULL);
    sink = ns_ingest_sink(&in);
    assert_int_equal(ns_ingest_pipeline(&in), NS_OK);
    assert_int_equal(ns_parser_new(&p, NS_FMT_XML, "t", &sink), NS_OK);
    assert_int_equal(ns_parser_feed(p, xml->data, xml->len), NS_OK);
    assert_int_equal(ns_parser_finish(p), NS_OK);
    ns_parser_free(p);
    assert_int_equal(ns_ingest_drain(&in), NS_OK);
    assert_int_equal(ns_store_commit(st), NS_OK);
    ns_ingest_end(&in);
    assert_int_equal(in.handed, in.n.stored + in.n.duplicates);
    return in.n;
}

static void assert_same_rollups(const char *a, const char *b);

/* Addresses are kept inline in the packed fields when their text comes back the same
 * (store/pack.c): every spelling reads back exactly as written, and only the others are
 * interned. */
static void test_addresses_inline(void **state)
{
    static const char *const ips[] = {
        "10.1.2.3",         "2001:db8::1",         "::ffff:10.1.2.3", "255.255.255.255",
        "010.001.002.003",  "2001:DB8::1",         "10.1.2.3 ",       "fe80::1%eth0",
        "&lt;b&gt;1.2.3.4", "2001:db8:0:0:0:0:0:1"};
    static const char *const kept[] = {
        "10.1.2.3",    "2001:db8::1", "::ffff:10.1.2.3", "255.255.255.255", "010.001.002.003",
        "2001:DB8::1", "10.1.2.3",    "fe80::1%eth0",    "<b>1.2.3.4",      "2001:db8:0:0:0:0:0:1"};
    const size_t n = sizeof(ips) / sizeof(ips[0]);
    struct tmpdb t;
    struct ns_store *st = NULL;
    struct ns_buf xml;
    struct ns_view_params vp;
    json_t *evs;
    sqlite3 *db;
    char err[256];
    (void)state;
    tmpdb_make(&t);
    ns_buf_init(&xml, 0);
    for (size_t k = 0; k < n; k++) {
        char when[40];
        snprintf(when, sizeof(when), "2026-08-01T10:00:%02dZ", (int)k);
        xml_event(&xml, NTLM_PROV, NTLM_CH, 4022, "FS01", (int)k + 1, when, "Username", "alice",
                  "RemoteClientMachine", "WS01", "ClientIP", ips[k], NULL);
    }
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, (uint64_t)n);
    ns_view_params_init(&vp);
    vp.limit = 100;
    evs = view(st, "events", &vp);
    assert_int_equal(json_array_size(evs), n);
    for (size_t k = 0; k < n; k++) {
        const char *ip = json_string_value(json_object_get(json_array_get(evs, k), "client_ip"));
        assert_non_null(ip);
        assert_string_equal(ip, kept[k]);
    }
    json_decref(evs);
    assert_int_equal(ns_store_close(st), NS_OK);
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    /* the four written as inet_ntop writes them are not in str; the others are */
    assert_int_equal(sql_int(db, "SELECT count(*) FROM str WHERE s IN ('10.1.2.3', "
                                 "'2001:db8::1', '::ffff:10.1.2.3', '255.255.255.255')"),
                     0);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM str WHERE s IN ('010.001.002.003', "
                                 "'2001:DB8::1', 'fe80::1%eth0', '<b>1.2.3.4', "
                                 "'2001:db8:0:0:0:0:0:1')"),
                     5);
    sqlite3_close(db);
    ns_buf_free(&xml);
    tmpdb_remove(&t);
}

/* Adds event rec of a duplicate test: its identity is rec's, its content says copy (a copy
 * of an event has another account: the first one read is the one stored). */
static void dup_event(struct ns_buf *xml, int rec, int copy)
{
    char when[40], account[24];
    snprintf(when, sizeof(when), "2026-07-%02dT%02d:%02d:00Z", 1 + rec / 1000, rec / 60 % 24,
             rec % 60);
    snprintf(account, sizeof(account), copy ? "copy%d" : "user%d", rec % 17);
    xml_event(xml, NTLM_PROV, NTLM_CH, rec % 3 ? 4020 : 4021, rec % 2 ? "WS01" : "WS02", rec, when,
              "Username", account, "TargetMachine", rec % 5 ? "FS01" : "FS02", "NtlmVersion",
              rec % 4 ? "NTLMv2" : "NTLMv1", NULL);
}

/* Duplicates among the events a statement inserts together (store.c: store_slice): copies
 * right after their event, a slice later, at the ends of slices, and of events stored
 * before, are each found, and the first copy read is the one stored, as one by one. */
static void test_duplicates_in_slices(void **state)
{
    struct tmpdb t, t2;
    struct ns_store *st = NULL, *inl = NULL;
    struct ns_buf xml, more;
    struct ns_view_params vp;
    struct ns_ingest_counts n, m;
    const char *const views[] = {"events", "dependencies", "accounts", "hosts", "trend"};
    char err[256];
    int copies = 0;
    (void)state;
    tmpdb_make(&t);
    tmpdb_make(&t2);
    ns_buf_init(&xml, 0);
    ns_buf_init(&more, 0);
    for (int rec = 1; rec <= 3000; rec++) {
        dup_event(&xml, rec, 0);
        if (rec % 7 == 0) { /* a copy at once */
            dup_event(&xml, rec, 1);
            copies++;
        }
        if (rec % 11 == 0 && rec > 1500) { /* a copy of an event 1500 back */
            dup_event(&xml, rec - 1500, 1);
            copies++;
        }
    }
    /* a second read: old events between new ones */
    for (int rec = 2001; rec <= 5000; rec++) {
        dup_event(&more, rec, rec <= 3000);
    }
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ns_store_open(&inl, t2.path, err, sizeof(err)), NS_OK);
    n = ingest_piped(st, &xml);
    m = ingest_buf(inl, NS_FMT_XML, xml.data, xml.len);
    assert_int_equal(n.stored, 3000);
    assert_int_equal(n.duplicates, copies);
    assert_int_equal(m.stored, 3000);
    assert_int_equal(m.duplicates, copies);
    n = ingest_piped(st, &more);
    m = ingest_buf(inl, NS_FMT_XML, more.data, more.len);
    assert_int_equal(n.stored, 2000);
    assert_int_equal(n.duplicates, 1000);
    assert_int_equal(m.stored, 2000);
    assert_int_equal(m.duplicates, 1000);
    ns_view_params_init(&vp);
    vp.limit = 10000;
    for (size_t k = 0; k < sizeof(views) / sizeof(views[0]); k++) {
        json_t *a = view(st, views[k], &vp), *b = view(inl, views[k], &vp);
        if (!json_equal(a, b)) {
            fail_msg("view %s differs", views[k]);
        }
        json_decref(a);
        json_decref(b);
    }
    /* the copies were not stored: no account "copy..." */
    {
        json_t *a = view(st, "accounts", &vp);
        for (size_t k = 0; k < json_array_size(a); k++) {
            const char *acc = json_string_value(json_object_get(json_array_get(a, k), "account"));
            assert_non_null(acc);
            assert_true(strncmp(acc, "copy", 4) != 0);
        }
        json_decref(a);
    }
    assert_int_equal(ns_store_close(st), NS_OK);
    assert_int_equal(ns_store_close(inl), NS_OK);
    assert_same_rollups(t.path, t2.path);
    ns_buf_free(&xml);
    ns_buf_free(&more);
    tmpdb_remove(&t);
    tmpdb_remove(&t2);
}

/* A batch ends early once its rollup rows reach the limit, so their memory is bounded
 * whatever the events; what is stored and counted is the same as in one batch. */
static void test_rollup_rows_end_a_batch(void **state)
{
    static const char *const views[] = {
        "dependencies", "hosts", "trend", "accounts", "remote_server_exceptions", "totals"};
    struct tmpdb t, t2;
    struct ns_store *st = NULL, *one = NULL;
    struct ns_buf xml;
    char err[256];
    uint64_t before;
    (void)state;
    tmpdb_make(&t);
    tmpdb_make(&t2);
    ns_buf_init(&xml, 0);
    for (int k = 0; k < 3000; k++) { /* each event its own dependency, host and day mostly */
        char when[40], client[16], account[16];
        snprintf(when, sizeof(when), "2026-03-%02dT10:%02d:00Z", k % 28 + 1, k % 60);
        snprintf(client, sizeof(client), "WS%04d", k);
        snprintf(account, sizeof(account), "user%d", k % 700);
        xml_event(&xml, NTLM_PROV, NTLM_CH, 8001, client, k + 1, when, "TargetName",
                  k % 2 ? "FS01" : "SQL01", "UserName", account, "DomainName", "CORP", NULL);
    }
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ns_store_open(&one, t2.path, err, sizeof(err)), NS_OK);
    ns_store_set_rollup_limit(st, 500);
    before = ns_store_commits(st);
    assert_int_equal(ingest_piped(st, &xml).stored, 3000);
    /* checked between slices of 1,024 events: each slice's rows pass the limit */
    assert_true(ns_store_commits(st) - before >= 3);
    before = ns_store_commits(one);
    assert_int_equal(ingest_buf(one, NS_FMT_XML, xml.data, xml.len).stored, 3000);
    assert_int_equal(ns_store_commits(one) - before, 1);
    for (size_t k = 0; k < sizeof(views) / sizeof(views[0]); k++) {
        json_t *a = view(st, views[k], NULL), *b = view(one, views[k], NULL);
        assert_true(json_array_size(a) > 0);
        if (!json_equal(a, b)) {
            fail_msg("view %s differs after early commits", views[k]);
        }
        json_decref(a);
        json_decref(b);
    }
    /* and again: every event a duplicate, nothing counted twice */
    assert_int_equal(ingest_piped(st, &xml).duplicates, 3000);
    {
        json_t *a = view(st, "totals", NULL), *b = view(one, "totals", NULL);
        assert_true(json_equal(a, b));
        json_decref(a);
        json_decref(b);
    }
    assert_int_equal(ns_store_close(st), NS_OK);
    assert_int_equal(ns_store_close(one), NS_OK);
    ns_buf_free(&xml);
    tmpdb_remove(&t);
    tmpdb_remove(&t2);
}

static void test_ingest_pipeline(void **state)
{
    struct tmpdb t, t2;
    struct ns_store *st = NULL, *ro = NULL, *inl = NULL;
    struct ns_ingest in;
    struct ns_sink sink;
    struct ns_parser *p = NULL;
    struct ns_buf xml, big;
    struct ns_view_params vp;
    json_t *a, *b;
    char err[256];
    int rc;
    (void)state;
    tmpdb_make(&t);
    tmpdb_make(&t2);
    ns_buf_init(&xml, 0);
    ns_buf_init(&big, 0);
    /* a process name larger than a pipeline chunk, and hostile text */
    for (int k = 0; k < 30000; k++) {
        ns_buf_adds(&big, "pq\xc3\xa9&amp;x&lt;");
    }
    for (int k = 0; k < 1500; k++) {
        char when[40], rid[16];
        snprintf(when, sizeof(when), "2026-03-%02dT10:00:%02dZ", k % 28 + 1, k % 60);
        snprintf(rid, sizeof(rid), "%d", k % 12);
        xml_event(&xml, NTLM_PROV, NTLM_CH, 4020, "WS01", k + 1, when, "Username",
                  k % 3 ? "alice" : "&lt;img src=x onerror=alert(1)&gt;\xe2\x80\x8b",
                  "TargetMachine", k % 2 ? "FS01" : "FS02", "NtlmUsageId", rid, "ProcessName",
                  k == 700 ? big.data : "C:\\Windows\\explorer.exe", "ClientLUID",
                  k % 5 ? "0x3e7" : "999", NULL);
    }
    /* stored on a second thread: the same counts as inline, twice (duplicates) */
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    for (int pass = 0; pass < 2; pass++) {
        struct ns_ingest_counts n = ingest_piped(st, &xml);
        assert_int_equal(pass ? n.duplicates : n.stored, 1500);
    }
    /* and the same events as an inline ingest, field by field */
    assert_int_equal(ns_store_open(&inl, t2.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ingest_buf(inl, NS_FMT_XML, xml.data, xml.len).stored, 1500);
    ns_view_params_init(&vp);
    vp.limit = 2000;
    a = view(st, "events", &vp);
    b = view(inl, "events", &vp);
    assert_int_equal(json_array_size(a), 1500);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    a = view(st, "dependencies", NULL);
    b = view(inl, "dependencies", NULL);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    assert_int_equal(ns_store_close(inl), NS_OK);
    tmpdb_remove(&t2);
    ns_buf_free(&big);
    assert_int_equal(ns_store_close(st), NS_OK);
    /* a store that fails: the parser is told and stops; nothing hangs */
    if (ns_store_open_readonly(&ro, t.path, err, sizeof(err)) != NS_OK) {
        fail_msg("read-only open: %s", err);
    }
    ns_ingest_init(&in, ro, NULL, NULL);
    sink = ns_ingest_sink(&in);
    assert_int_equal(ns_ingest_pipeline(&in), NS_OK);
    assert_int_equal(ns_parser_new(&p, NS_FMT_XML, "t", &sink), NS_OK);
    rc = NS_OK;
    for (int k = 0; k < 40 && rc == NS_OK; k++) { /* 60,000 events: many chunks' worth */
        rc = ns_parser_feed(p, xml.data, xml.len);
    }
    if (rc == NS_OK) {
        rc = ns_parser_finish(p);
    }
    ns_parser_free(p);
    assert_int_equal(rc, NS_EDB);
    assert_int_equal(ns_ingest_drain(&in), NS_EDB);
    ns_ingest_end(&in);
    assert_int_equal(in.n.stored, 0);
    assert_true(in.handed < 40 * 1500);
    assert_int_equal(ns_store_close(ro), NS_OK);
    ns_buf_free(&xml);
    tmpdb_remove(&t);
}

/* Dependency ids are remembered across batches (one dependency however its names are
 * spelled), and forgotten with a rolled-back batch that created them. Addresses are the
 * latest non-empty ones. */
static void test_dependency_ids_across_batches(void **state)
{
    static const char *const clients[] = {"WS01", "ws01.corp.example.com", "Ws01"};
    static const char *const accounts[] = {"alice", "ALICE", "Alice"};
    struct tmpdb t;
    struct ns_store *st = NULL;
    struct ns_buf xml, one;
    struct ns_ingest in;
    struct ns_sink sink;
    struct ns_parser *p = NULL;
    json_t *deps, *row;
    char err[256];
    (void)state;
    tmpdb_make(&t);
    ns_buf_init(&xml, 0);
    ns_buf_init(&one, 0);
    for (int k = 0; k < 9; k++) {
        char when[40];
        snprintf(when, sizeof(when), "2026-04-02T10:00:%02dZ", k);
        xml_event(&xml, NTLM_PROV, NTLM_CH, 4022, "FS01", k + 1, when, "Username", accounts[k % 3],
                  "RemoteClientMachine", clients[k / 3], "ClientIP", k == 4 ? "10.0.0.4" : "-",
                  NULL);
    }
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    ns_store_set_batch_limit(st, 2); /* five commits */
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 9);
    deps = view(st, "dependencies", NULL);
    assert_int_equal(json_array_size(deps), 1);
    row = json_array_get(deps, 0);
    assert_int_equal(json_integer_value(json_object_get(row, "events")), 9);
    assert_non_null(json_string_value(json_object_get(row, "client_ip")));
    assert_string_equal(json_string_value(json_object_get(row, "client_ip")), "10.0.0.4");
    json_decref(deps);

    /* a batch creating a new dependency is rolled back: storing it again creates it again */
    ns_store_set_batch_limit(st, 0);
    xml_event(&one, NTLM_PROV, NTLM_CH, 4022, "FS01", 50, "2026-04-03T10:00:00Z", "Username", "bob",
              "RemoteClientMachine", "WS07", NULL);
    ns_ingest_init(&in, st, NULL, NULL);
    sink = ns_ingest_sink(&in);
    assert_int_equal(ns_parser_new(&p, NS_FMT_XML, "t", &sink), NS_OK);
    assert_int_equal(ns_parser_feed(p, one.data, one.len), NS_OK);
    assert_int_equal(ns_parser_finish(p), NS_OK);
    ns_parser_free(p);
    assert_int_equal(in.n.stored, 1);
    ns_store_rollback(st);
    deps = view(st, "dependencies", NULL);
    assert_int_equal(json_array_size(deps), 1);
    json_decref(deps);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, one.data, one.len).stored, 1);
    deps = view(st, "dependencies", NULL);
    assert_int_equal(json_array_size(deps), 2);
    for (size_t k = 0; k < 2; k++) {
        const char *account;
        row = json_array_get(deps, k);
        account = json_string_value(json_object_get(row, "account"));
        assert_non_null(account);
        assert_int_equal(json_integer_value(json_object_get(row, "events")),
                         strcmp(account, "bob") ? 9 : 1);
    }
    json_decref(deps);
    deps = view(st, "events", NULL);
    assert_int_equal(json_array_size(deps), 10);
    json_decref(deps);
    assert_int_equal(ns_store_close(st), NS_OK);

    /* reopened (no cached ids): a known dependency is found by its key, whatever the case of
     * its names, and keeps its id, keys and totals */
    ns_buf_reset(&one);
    xml_event(&one, NTLM_PROV, NTLM_CH, 4022, "FS01", 60, "2026-04-04T10:00:00Z", "Username",
              "aLiCe", "RemoteClientMachine", "wS01.corp.example.com", NULL);
    xml_event(&one, NTLM_PROV, NTLM_CH, 4022, "fs01.corp.example.com", 61, "2026-04-04T11:00:00Z",
              "Username", "BOB", "RemoteClientMachine", "ws07", NULL);
    {
        sqlite3 *db;
        int64_t before;
        assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
        before = sql_int(db, "SELECT max(id) FROM dep");
        sqlite3_close(db);
        assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
        assert_int_equal(ingest_buf(st, NS_FMT_XML, one.data, one.len).stored, 2);
        assert_int_equal(ns_store_close(st), NS_OK);
        assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
        assert_int_equal(sql_int(db, "SELECT count(*) FROM dep"), 2);
        assert_int_equal(sql_int(db, "SELECT max(id) FROM dep"), before);
        assert_int_equal(sql_int(db, "SELECT sum(events) FROM dep"), 12);
        assert_int_equal(sql_int(db, "SELECT events FROM dep WHERE account = 'bob'"), 2);
        assert_int_equal(sql_int(db, "SELECT count(*) FROM dep WHERE akey IS NULL OR ckey IS NULL "
                                     "OR tkey IS NULL"),
                         0);
        assert_int_equal(sql_int(db, "SELECT last_day FROM dep WHERE account = 'bob'"),
                         sql_int(db, "SELECT max(day) FROM dep_daily"));
        sqlite3_close(db);
    }
    ns_buf_free(&xml);
    ns_buf_free(&one);
    tmpdb_remove(&t);
}

/* A dependency's addresses are attributes: the latest non-empty one wins, within a batch
 * (over its days, in time order) and across batches. */
static void test_latest_address(void **state)
{
    static const char *const ips[] = {"10.0.0.1", "-", "10.0.0.2", "10.0.0.3", "-"};
    struct tmpdb t;
    struct ns_store *st = NULL;
    struct ns_buf xml;
    json_t *deps;
    char err[256];
    (void)state;
    tmpdb_make(&t);
    ns_buf_init(&xml, 0);
    /* days 1, 1, 2, 3, 3: one batch */
    for (int k = 0; k < 5; k++) {
        char when[40];
        snprintf(when, sizeof(when), "2026-06-%02dT1%d:00:00Z", 1 + (k + 1) / 2, k);
        xml_event(&xml, NTLM_PROV, NTLM_CH, 4022, "FS01", k + 1, when, "Username", "alice",
                  "RemoteClientMachine", "WS01", "ClientIP", ips[k], NULL);
    }
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 5);
    deps = view(st, "dependencies", NULL);
    assert_int_equal(json_array_size(deps), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(deps, 0), "client_ip")),
                        "10.0.0.3");
    json_decref(deps);
    /* a later batch without an address keeps it; one with an address replaces it */
    ns_buf_reset(&xml);
    xml_event(&xml, NTLM_PROV, NTLM_CH, 4022, "FS01", 10, "2026-06-04T10:00:00Z", "Username",
              "alice", "RemoteClientMachine", "WS01", NULL);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 1);
    deps = view(st, "dependencies", NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(deps, 0), "client_ip")),
                        "10.0.0.3");
    json_decref(deps);
    ns_buf_reset(&xml);
    xml_event(&xml, NTLM_PROV, NTLM_CH, 4022, "FS01", 11, "2026-06-05T10:00:00Z", "Username",
              "alice", "RemoteClientMachine", "WS01", "ClientIP", "10.0.0.9", NULL);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 1);
    deps = view(st, "dependencies", NULL);
    assert_string_equal(json_string_value(json_object_get(json_array_get(deps, 0), "client_ip")),
                        "10.0.0.9");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(deps, 0), "events")), 7);
    json_decref(deps);
    assert_int_equal(ns_store_close(st), NS_OK);
    ns_buf_free(&xml);
    tmpdb_remove(&t);
}

/* Every rollup table of two databases holds the same rows (the dependencies' addresses
 * aside: the latest one depends on which batch came last). */
static void assert_same_rollups(const char *a, const char *b)
{
    static const char *const tables[] = {
        "dep_daily",
        "day_total",
        "day_active",
        "exc_daily",
        "host_daily",
        "host_total",
        "(SELECT id, client, account, domain, process, target, target_service, reason_id, "
        "ntlm_version, events, ntlmv1_events, first_seen, last_seen, last_day, last_v1_day "
        "FROM %s)"};
    sqlite3 *db;
    char sql[2048], attach[300];
    assert_int_equal(sqlite3_open(a, &db), SQLITE_OK);
    snprintf(attach, sizeof(attach), "ATTACH '%s' AS b", b);
    assert_int_equal(sqlite3_exec(db, attach, NULL, NULL, NULL), SQLITE_OK);
    for (size_t k = 0; k < sizeof(tables) / sizeof(tables[0]); k++) {
        char ta[300], tb[300];
        if (strchr(tables[k], '%')) {
            snprintf(ta, sizeof(ta), tables[k], "main.dep");
            snprintf(tb, sizeof(tb), tables[k], "b.dep");
        } else {
            snprintf(ta, sizeof(ta), "main.%s", tables[k]);
            snprintf(tb, sizeof(tb), "b.%s", tables[k]);
        }
        snprintf(sql, sizeof(sql),
                 "SELECT (SELECT count(*) FROM (SELECT * FROM %s EXCEPT SELECT * FROM %s)) + "
                 "(SELECT count(*) FROM (SELECT * FROM %s EXCEPT SELECT * FROM %s)) + "
                 "((SELECT count(*) FROM %s) <> (SELECT count(*) FROM %s))",
                 ta, tb, tb, ta, ta, tb);
        if (sql_int(db, sql) != 0) {
            fail_msg("%s differs", tables[k]);
        }
    }
    assert_true(sql_int(db, "SELECT count(*) FROM main.dep_daily") > 10);
    sqlite3_close(db);
}

/* Two writers on one database (a server and an `ingest`, say) take turns: each one's cached
 * dependency days go stale when the other commits, and the rollups must still equal those
 * of a single writer storing the same batches. */
static void test_two_writers(void **state)
{
    static const char *const accounts[] = {"alice", "bob", "carol"};
    struct tmpdb t1, t2;
    struct ns_store *w[2] = {NULL, NULL}, *one = NULL;
    struct ns_buf part[12];
    char err[256];
    (void)state;
    tmpdb_make(&t1);
    tmpdb_make(&t2);
    /* batches going forward in time, each day seen by both writers, some with NTLMv1 */
    for (int b = 0; b < 12; b++) {
        ns_buf_init(&part[b], 0);
        for (int k = 0; k < 30; k++) {
            char when[40];
            int rec = b * 100 + k + 1, day = 1 + b / 2 + (k % 3 == 0);
            snprintf(when, sizeof(when), "2026-05-%02dT%02d:00:%02dZ", day, b, k);
            xml_event(&part[b], NTLM_PROV, NTLM_CH, (k % 4) ? 4022 : 4025, "FS01", rec, when,
                      "Username", accounts[k % 3], "RemoteClientMachine", (k % 5) ? "WS01" : "WS02",
                      "NtlmVersion", (k % 7) ? "NTLMv2" : "NTLMv1", NULL);
        }
    }
    assert_int_equal(ns_store_open(&w[0], t1.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ns_store_open(&w[1], t1.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ns_store_open(&one, t2.path, err, sizeof(err)), NS_OK);
    for (int b = 0; b < 12; b++) {
        /* writers alternate by two: a writer's next batch finds the other's days */
        assert_int_equal(ingest_buf(w[(b / 2) % 2], NS_FMT_XML, part[b].data, part[b].len).stored,
                         30);
        assert_int_equal(ingest_buf(one, NS_FMT_XML, part[b].data, part[b].len).stored, 30);
    }
    assert_int_equal(ns_store_close(w[0]), NS_OK);
    assert_int_equal(ns_store_close(w[1]), NS_OK);
    assert_int_equal(ns_store_close(one), NS_OK);
    assert_same_rollups(t1.path, t2.path);
    for (int b = 0; b < 12; b++) {
        ns_buf_free(&part[b]);
    }
    tmpdb_remove(&t1);
    tmpdb_remove(&t2);
}

/* After a run of new dependencies the store inserts before it looks up (store.c: upsert_dep):
 * a known one met then, in any case of its names, keeps its one row, id and totals, and the
 * new ones are created once. */
static void test_new_dependencies_in_a_row(void **state)
{
    struct tmpdb t;
    struct ns_store *st = NULL;
    struct ns_buf first, more;
    sqlite3 *db;
    char err[256];
    int64_t id;
    (void)state;
    tmpdb_make(&t);
    ns_buf_init(&first, 0);
    ns_buf_init(&more, 0);
    xml_event(&first, NTLM_PROV, NTLM_CH, 4022, "FS01", 1, "2026-04-02T10:00:00Z", "Username",
              "alice", "RemoteClientMachine", "WS01", NULL);
    /* 20 new dependencies, then alice's again (not in the new process's cache), then 20 more;
     * the second half of each run is created insert first */
    for (int k = 0; k < 41; k++) {
        char when[40], user[16];
        snprintf(when, sizeof(when), "2026-04-03T10:%02d:00Z", k);
        snprintf(user, sizeof(user), "user%02d", k);
        xml_event(&more, NTLM_PROV, NTLM_CH, 4022, "FS01", 10 + k, when, "Username",
                  k == 20 ? "ALICE" : user, "RemoteClientMachine", k == 20 ? "ws01" : "WS02", NULL);
    }
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, first.data, first.len).stored, 1);
    assert_int_equal(ns_store_close(st), NS_OK);
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    id = sql_int(db, "SELECT id FROM dep WHERE account = 'alice'");
    sqlite3_close(db);
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, more.data, more.len).stored, 41);
    assert_int_equal(ns_store_close(st), NS_OK);
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM dep"), 41);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM dep WHERE account = 'alice'"), 1);
    assert_int_equal(sql_int(db, "SELECT id FROM dep WHERE account = 'alice'"), id);
    assert_int_equal(sql_int(db, "SELECT events FROM dep WHERE account = 'alice'"), 2);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM dep WHERE events <> 1 AND id <> "
                                 "(SELECT id FROM dep WHERE account = 'alice')"),
                     0);
    assert_int_equal(sql_int(db, "SELECT count(*) FROM dep WHERE akey IS NULL OR ckey IS NULL"), 0);
    assert_int_equal(sql_int(db, "SELECT count(DISTINCT dep) FROM events"), 41);
    sqlite3_close(db);
    ns_buf_free(&first);
    ns_buf_free(&more);
    tmpdb_remove(&t);
}

/* Whether any text column of a dependencies row holds q, ASCII case folded (as LIKE). */
static int row_matches(json_t *row, const char *q)
{
    static const char *const cols[] = {"client",         "client_ip", "account",
                                       "domain",         "process",   "target",
                                       "target_service", "target_ip", "ntlm_version"};
    for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
        const char *v = json_string_value(json_object_get(row, cols[c]));
        size_t n = strlen(q);
        for (; v && *v; v++) {
            if (!strncasecmp(v, q, n)) {
                return 1;
            }
        }
    }
    return 0;
}

/* A search of the dependencies (sql/dep_range_search.sql) answers the rows of the view
 * without it whose text holds the words, over every day and over part of them, with the
 * same columns, one search after another (a new pattern prepares the statement again). */
static void test_search_dependencies(void **state)
{
    static const char *const accounts[] = {"alice", "Bob_1", "carol%", "dave", "ALICE2"};
    static const char *const searches[] = {"ali",  "B_1",   "l%",     "fs0",
                                           "nope", "10.9.", "ntlmv1", "ALI"};
    struct tmpdb t;
    struct ns_store *st = NULL;
    struct ns_buf xml;
    char err[256];
    (void)state;
    tmpdb_make(&t);
    ns_buf_init(&xml, 0);
    for (int k = 0; k < 60; k++) {
        char when[40], ip[20];
        snprintf(when, sizeof(when), "2026-07-%02dT10:00:%02dZ", 1 + k % 6, k);
        snprintf(ip, sizeof(ip), "10.9.0.%d", k % 7);
        xml_event(&xml, NTLM_PROV, NTLM_CH, 4022, "FS01", k + 1, when, "Username", accounts[k % 5],
                  "RemoteClientMachine", k % 3 ? "WS01" : "WS02", "ClientIP", k % 4 ? ip : "-",
                  "NtlmVersion", k % 9 ? "NTLMv2" : "NTLMv1", NULL);
        xml_event(&xml, NTLM_PROV, NTLM_CH, 4020, "WS03", k + 1, when, "Username",
                  accounts[(k + 1) % 5], "TargetMachine", k % 2 ? "fs01.corp" : "FS02", NULL);
    }
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 120);
    for (int range = 0; range < 2; range++) {
        struct ns_view_params p;
        json_t *all;
        ns_view_params_init(&p);
        if (range) {
            int64_t us = 0;
            assert_int_equal(ns_parse_time("2026-07-02T00:00:00Z", &us), NS_OK);
            p.since_day = ns_day_of(us);
            p.until_day = p.since_day + 2;
        }
        all = view(st, "dependencies", &p);
        assert_true(json_array_size(all) > 5);
        for (size_t k = 0; k < sizeof(searches) / sizeof(searches[0]); k++) {
            json_t *found, *want = json_array();
            size_t i;
            json_t *row;
            json_array_foreach(all, i, row)
            {
                if (row_matches(row, searches[k])) {
                    json_array_append(want, row);
                }
            }
            p.q = searches[k];
            found = view(st, "dependencies", &p);
            p.q = NULL;
            assert_true(json_equal(found, want));
            assert_int_equal(ns_store_last_total(st), (int64_t)json_array_size(want));
            json_decref(found);
            json_decref(want);
        }
        json_decref(all);
    }
    assert_int_equal(ns_store_close(st), NS_OK);
    ns_buf_free(&xml);
    tmpdb_remove(&t);
}

/* ========================================================================================== */

/* The grouping views' reference: each dependency's days of dep_daily in the range (?1 ..
 * ?2; not its day packs, not its running totals) with its names, filtered as
 * sql/dep_range_x.sql filters (?3 .. ?10), then grouped by SQL on folded names. */
static const char ref_rows[] =
    "WITH r AS (SELECT dep, SUM(events) AS ev, SUM(ntlmv1_events) AS v1,"
    "                  MIN(first_seen) AS fs, MAX(last_seen) AS ls, MAX(day) AS ld"
    "           FROM dep_daily WHERE day BETWEEN ?1 AND ?2 GROUP BY dep),"
    " u AS (SELECT p.*, r.* FROM r JOIN dep AS p ON p.id = r.dep"
    "       WHERE (?3 IS NULL OR p.client = ?3) AND (?4 IS NULL OR p.account = ?4)"
    "         AND (?5 IS NULL OR p.domain = ?5) AND (?6 IS NULL OR p.process = ?6)"
    "         AND (?7 IS NULL OR p.target = ?7) AND (?8 IS NULL OR p.target_service = ?8)"
    "         AND (?9 IS NULL OR p.reason_id = CASE WHEN ?9 = '' THEN -1 ELSE ?9 END)"
    "         AND (?10 IS NULL OR p.ntlm_version = ?10)) ";
#define REF_A "lower(account) || '/' || lower(domain)"
#define REF_C "lower(NULLIF(client, ''))"
#define REF_T "lower(NULLIF(target, ''))"

/* A grouping view, the key its rows are matched by (lower case names joined by '/'), and
 * the reference query giving that key then the view's other columns, in order. */
static const struct {
    const char *view;
    const char *key[2];   /* the view's columns making the key */
    const char *cols[10]; /* the view's other columns, in order, ended by NULL */
    const char *sql;      /* after ref_rows; ?11 is the readiness' reference day */
} grouped[] = {
    {"accounts",
     {"account", "domain"},
     {"events", "ntlmv1_events", "clients", "targets", "first_seen", "last_seen", NULL},
     "SELECT " REF_A ", SUM(ev), SUM(v1), COUNT(DISTINCT " REF_C "), COUNT(DISTINCT " REF_T "),"
     " MIN(fs), MAX(ls) FROM u GROUP BY 1"},
    {"processes",
     {"process", NULL},
     {"events", "accounts", "hosts", "ntlmv1_events", NULL},
     "SELECT lower(process), SUM(ev), COUNT(DISTINCT " REF_A "), COUNT(DISTINCT " REF_C "),"
     " SUM(v1) FROM u GROUP BY 1"},
    {"targets",
     {"target", "target_service"},
     {"target_ip", "events", "accounts", "clients", "ntlmv1_events", NULL},
     "SELECT lower(target) || '/' || lower(target_service), NULLIF(MAX(target_ip), ''), SUM(ev),"
     " COUNT(DISTINCT " REF_A "), COUNT(DISTINCT " REF_C "), SUM(v1) FROM u GROUP BY 1"},
    {"clients",
     {"client", NULL},
     {"client_ip", "events", "accounts", "targets", "ntlmv1_events", NULL},
     "SELECT lower(client), NULLIF(MAX(client_ip), ''), SUM(ev), COUNT(DISTINCT " REF_A "),"
     " COUNT(DISTINCT " REF_T "), SUM(v1) FROM u GROUP BY 1"},
    {"readiness",
     {"target", NULL},
     {"active_dependencies", "dependencies", "clients", "accounts", "events", "ntlmv1_events",
      "last_seen", "quiet_days", NULL},
     "SELECT lower(target), SUM(ld > ?11 - 7), COUNT(*), COUNT(DISTINCT " REF_C "),"
     " COUNT(DISTINCT " REF_A "), SUM(ev), SUM(v1), MAX(ls), MAX(0, ?11 - MAX(ld))"
     " FROM u WHERE target <> '' GROUP BY 1"},
    {"reasons",
     {"reason_id", NULL},
     {"events", "clients", "targets", NULL},
     "SELECT CASE WHEN reason_id = -1 THEN '' ELSE reason_id END, SUM(ev),"
     " COUNT(DISTINCT " REF_C "), COUNT(DISTINCT " REF_T ") FROM u GROUP BY 1"},
    {"totals",
     {NULL, NULL},
     {"dependencies", "accounts", "clients", "targets", NULL},
     "SELECT '', COUNT(*), COUNT(DISTINCT " REF_A "), COUNT(DISTINCT " REF_C "),"
     " COUNT(DISTINCT " REF_T ") FROM u"},
};

/* A view's cell as the reference writes it: "" for NULL, times in microseconds. */
static void cell_text(json_t *v, char *out, size_t n)
{
    int64_t us;
    if (json_is_integer(v)) {
        snprintf(out, n, "%lld", (long long)json_integer_value(v));
    } else if (json_is_string(v) && ns_parse_time(json_string_value(v), &us) == NS_OK) {
        snprintf(out, n, "%lld", (long long)us);
    } else {
        snprintf(out, n, "%s", json_is_string(v) ? json_string_value(v) : "");
    }
}

/* The view's rows equal the reference's, one for one, matched by their folded key. */
static void check_grouped(struct ns_store *st, sqlite3 *db, int g, const struct ns_view_params *p,
                          const char *const filters[8], int64_t ref_day, json_t **spelt)
{
    sqlite3_stmt *q;
    char sql[4096];
    json_t *rows = view(st, grouped[g].view, p);
    size_t matched = 0;
    int step;
    snprintf(sql, sizeof(sql), "%s%s", ref_rows, grouped[g].sql);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_int64(q, 1, p->since_day);
    sqlite3_bind_int64(q, 2, p->until_day);
    for (int f = 0; f < 8; f++) {
        if (filters[f] && strcmp(grouped[g].view, "totals")) { /* the whole domain's */
            sqlite3_bind_text(q, 3 + f, filters[f], -1, SQLITE_STATIC);
        }
    }
    sqlite3_bind_int64(q, 11, ref_day);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(q, 0);
        json_t *row, *found = NULL;
        size_t i;
        int c = 1;
        if (!strcmp(grouped[g].view, "totals") && sqlite3_column_int64(q, 1) == 0) {
            continue; /* no dependency: the totals' zeros, checked below */
        }
        json_array_foreach(rows, i, row)
        {
            char k[512] = "", part[256];
            for (int j = 0; j < 2 && grouped[g].key[j]; j++) {
                cell_text(json_object_get(row, grouped[g].key[j]), part, sizeof(part));
                for (char *x = part; *x; x++) {
                    *x = (char)tolower((unsigned char)*x);
                }
                snprintf(k + strlen(k), sizeof(k) - strlen(k), "%s%s", j ? "/" : "", part);
            }
            if (!strcmp(k, key ? key : "")) {
                assert_null(found); /* one row a group */
                found = row;
            }
        }
        if (!found) {
            fail_msg("%s: no row for \"%s\"", grouped[g].view, key ? key : "");
        }
        matched++;
        for (const char *const *col = grouped[g].cols; *col; col++, c++) {
            char got[64];
            const char *want = (const char *)sqlite3_column_text(q, c);
            cell_text(json_object_get(found, *col), got, sizeof(got));
            if (strcmp(got, want ? want : "")) {
                fail_msg("%s \"%s\" %s: %s, want %s", grouped[g].view, key ? key : "", *col, got,
                         want ? want : "");
            }
        }
        if (spelt) {
            json_array_append(*spelt, found);
        }
    }
    assert_int_equal(step, SQLITE_DONE);
    sqlite3_finalize(q);
    if (!strcmp(grouped[g].view, "totals")) {
        assert_int_equal(json_array_size(rows), 1);
        if (!matched) {
            assert_int_equal(
                json_integer_value(json_object_get(json_array_get(rows, 0), "dependencies")), 0);
        }
    } else {
        assert_int_equal(json_array_size(rows), matched);
        if (strcmp(grouped[g].view, "reasons")) {
            assert_int_equal(ns_store_last_total(st), (int64_t)matched);
        }
    }
    json_decref(rows);
}

/* Each accounts row over every day is named as the lowest id of its dependencies spells it
 * (account and domain compare without case), and some have dependencies spelling them in
 * more than one way. */
static void check_spelling(sqlite3 *db, json_t *rows)
{
    sqlite3_stmt *q;
    size_t i;
    json_t *row;
    int variants = 0;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT account, domain, (SELECT COUNT(DISTINCT account"
                                        " || '/' || domain) FROM dep WHERE account = ?1 AND"
                                        " domain = ?2 AND events > 0) FROM dep WHERE account = ?1"
                                        " AND domain = ?2 AND events > 0 ORDER BY id LIMIT 1",
                                        -1, &q, NULL),
                     SQLITE_OK);
    json_array_foreach(rows, i, row)
    {
        const char *a = json_string_value(json_object_get(row, "account"));
        const char *d = json_string_value(json_object_get(row, "domain"));
        sqlite3_bind_text(q, 1, a ? a : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, d ? d : "", -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(q, 0), a ? a : "");
        assert_string_equal((const char *)sqlite3_column_text(q, 1), d ? d : "");
        variants += sqlite3_column_int(q, 2) > 1;
        sqlite3_reset(q);
    }
    assert_true(variants > 2);
    sqlite3_finalize(q);
}

/* The grouping views (ns_dep_group, store/group.c) equal SQL grouping the range's rows of
 * dep_daily on folded names, over every day (running totals) and part of them (day packs),
 * with each filter; names differing only in case are one group, spelt as its first
 * dependency spells them. */
static void test_grouped_views(void **state)
{
    static const char *const accounts[] = {"alice", "ALICE", "Bob", "bob", "svc_x", ""};
    static const char *const domains[] = {"CORP", "corp", ""};
    static const char *const clients[] = {"WS01", "ws01", "WS02", ""};
    static const char *const targets[] = {"FS01", "fs01", "SQL01", ""};
    static const char *const services[] = {"cifs/FS01", "CIFS/fs01", "HTTP/SQL01", ""}; /* SPNs */
    static const char *const processes[] = {"C:\\x\\a.exe", "c:\\X\\A.EXE", "", "b.exe"};
    static const char *const reasons[] = {"0", "2", "3", NULL};
    static const char *const versions[] = {"NTLMv2", "NTLMv1", "LM", "NTLMv2"};
    /* the filters, in the order of ns_filter_names from client: client, account, domain,
     * process, target, service, reason_id, version */
    static const char *const filters[][8] = {
        {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
        {"Ws01", NULL, NULL, NULL, NULL, NULL, NULL, NULL},
        {NULL, "ALICE", "corp", NULL, NULL, NULL, NULL, NULL},
        {NULL, "", NULL, NULL, NULL, NULL, NULL, NULL},
        {NULL, NULL, NULL, "C:\\X\\a.exe", NULL, "Cifs", NULL, NULL},
        {NULL, NULL, NULL, NULL, "", NULL, NULL, NULL},
        {NULL, NULL, NULL, NULL, NULL, NULL, "", NULL},
        {NULL, NULL, NULL, NULL, NULL, NULL, "2", NULL},
        {NULL, NULL, NULL, NULL, NULL, NULL, "3.0", NULL},
        {NULL, NULL, NULL, NULL, NULL, NULL, "x", NULL},
        {NULL, NULL, NULL, NULL, NULL, NULL, NULL, "NTLMv1"},
        {NULL, NULL, NULL, NULL, NULL, NULL, NULL, "ntlmv1"},
        {"nobody", NULL, NULL, NULL, NULL, NULL, NULL, NULL},
    };
    struct tmpdb t;
    struct ns_store *st = NULL;
    struct ns_buf xml;
    sqlite3 *db = NULL;
    uint32_t seed = 7;
    char err[256];
    int first_day = 0;
    (void)state;
    tmpdb_make(&t);
    ns_buf_init(&xml, 0);
    for (int k = 0; k < 700; k++) {
        char when[40], ip[24];
        const char *pick[9];
        uint32_t r[9];
        for (int j = 0; j < 9; j++) {
            seed = seed * 1103515245u + 12345u;
            r[j] = seed >> 16;
        }
        /* the first events spell names in lower case, the later ones in any case */
        pick[0] = accounts[k < 40 ? 0 : r[0] % 6];
        pick[1] = domains[k < 40 ? 0 : r[1] % 3];
        pick[2] = clients[r[2] % 4];
        pick[3] = targets[r[3] % 4];
        pick[4] = services[r[4] % 4];
        pick[5] = processes[r[5] % 4];
        pick[6] = reasons[r[6] % 4];
        pick[7] = versions[r[7] % 4];
        snprintf(when, sizeof(when), "2026-04-%02dT%02d:%02d:00Z", 1 + (int)(r[8] % 8), k % 24,
                 k % 60);
        snprintf(ip, sizeof(ip), "10.0.%d.%d", k % 3, (int)(r[8] % 5));
        if (k % 3) { /* a client's event */
            xml_event(&xml, NTLM_PROV, NTLM_CH, 4020, *pick[2] ? pick[2] : "WS09", k + 1, when,
                      "Username", pick[0], "DomainName", pick[1], "ProcessName", pick[5],
                      "TargetMachine", pick[3], "TargetService", pick[4], "TargetIP", ip,
                      "NtlmUsageId", pick[6], "NtlmVersion", pick[7], NULL);
        } else { /* a server's */
            xml_event(&xml, NTLM_PROV, NTLM_CH, 4022, *pick[3] ? pick[3] : "FS09", k + 1, when,
                      "Username", pick[0], "DomainName", pick[1], "ProcessName", pick[5],
                      "RemoteClientMachine", pick[2], "ClientIP", ip, "NtlmVersion", pick[7], NULL);
        }
    }
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 700);
    assert_int_equal(sqlite3_open_v2(t.path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_true(sql_int(db, "SELECT COUNT(*) FROM dep") > 200);
    {
        int64_t d0;
        assert_int_equal(ns_parse_date("2026-04-01", &d0), NS_OK);
        first_day = (int)d0;
    }
    for (int range = 0; range < 5; range++) {
        /* every day (and more), three days, one day, none, and eight days, whose first day
         * is just out of the 7 days up to the last */
        static const int spans[][2] = {{-100, 100}, {2, 4}, {7, 7}, {20, 30}, {0, 7}};
        struct ns_view_params p;
        int64_t now_day = (int64_t)time(NULL) / 86400, ref;
        ns_view_params_init(&p);
        p.since_day = first_day + spans[range][0];
        p.until_day = first_day + spans[range][1];
        p.limit = 1000;
        ref = p.until_day < now_day ? p.until_day : now_day;
        for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
            for (int q = 0; q < NS_Q_COUNT; q++) {
                p.filter[q] = NULL;
            }
            for (int q = 0; q < 8; q++) {
                p.filter[NS_Q_CLIENT + q] = filters[f][q];
            }
            for (size_t g = 0; g < sizeof(grouped) / sizeof(grouped[0]); g++) {
                json_t *spelt = json_array();
                check_grouped(st, db, (int)g, &p, filters[f], ref, &spelt);
                if (range == 0 && f == 0 && !strcmp(grouped[g].view, "accounts")) {
                    check_spelling(db, spelt);
                }
                json_decref(spelt);
            }
        }
    }
    /* another connection adds events: the next answer reads the dependencies again */
    {
        struct ns_store *ro = NULL;
        struct ns_buf more;
        struct ns_view_params p;
        json_t *before, *after;
        int64_t ref;
        ns_view_params_init(&p);
        p.since_day = first_day - 100;
        p.until_day = first_day + 100;
        ref = p.until_day < (int64_t)time(NULL) / 86400 ? p.until_day : (int64_t)time(NULL) / 86400;
        ns_buf_init(&more, 0);
        xml_event(&more, NTLM_PROV, NTLM_CH, 4020, "WS77", 9001, "2026-04-03T09:00:00Z", "Username",
                  "newcomer", "TargetMachine", "FS77", NULL);
        assert_int_equal(ns_store_open_readonly(&ro, t.path, err, sizeof(err)), NS_OK);
        before = view(ro, "accounts", &p);
        assert_int_equal(ingest_buf(st, NS_FMT_XML, more.data, more.len).stored, 1);
        after = view(ro, "accounts", &p);
        assert_int_equal(json_array_size(after), json_array_size(before) + 1);
        for (size_t g = 0; g < sizeof(grouped) / sizeof(grouped[0]); g++) {
            check_grouped(ro, db, (int)g, &p, filters[0], ref, NULL);
        }
        json_decref(before);
        json_decref(after);
        assert_int_equal(ns_store_close(ro), NS_OK);
        ns_buf_free(&more);
    }
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(ns_store_close(st), NS_OK);
    ns_buf_free(&xml);
    tmpdb_remove(&t);
}

/* Events for the checkpoint test: n events from record first on, spread over accounts,
 * clients and targets so each batch dirties pages all over the rollups. */
static void spread_events(struct ns_buf *xml, int first, int n)
{
    for (int k = 0; k < n; k++) {
        char when[40], account[32], client[32], target[32];
        int rec = first + k;
        snprintf(when, sizeof(when), "2026-06-%02dT%02d:%02d:%02dZ", 1 + rec / 1500 % 28,
                 rec / 60 % 24, rec % 60, rec % 59);
        snprintf(account, sizeof(account), "svc%d", rec * 7 % 97);
        snprintf(client, sizeof(client), "WS%03d", rec * 13 % 211);
        snprintf(target, sizeof(target), "FS%02d", rec % 31);
        xml_event(xml, NTLM_PROV, NTLM_CH, 4020 + rec % 3, "WS01", rec, when, "Username", account,
                  "ClientName", client, "TargetMachine", target, NULL);
    }
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : 0;
}

/* Checkpoints run beside the writer (store/checkpoint.c): the WAL starts again and stays
 * bounded, events and rollups are those of a store that checkpoints only when it closes,
 * and a reader holding the WAL back makes the writer neither fail nor hang. Batches of 25
 * events (stored one by one: a commit every 25; the pipeline's slices make 1024). */
static void test_background_checkpoints(void **state)
{
    struct tmpdb t1, t2;
    struct ns_store *st = NULL, *one = NULL;
    struct ns_buf xml[3];
    sqlite3 *reader = NULL;
    uint64_t passes = 0, own = 0;
    char err[256], wal1[160], wal2[160];
    (void)state;
    tmpdb_make(&t1);
    tmpdb_make(&t2);
    snprintf(wal1, sizeof(wal1), "%s-wal", t1.path);
    snprintf(wal2, sizeof(wal2), "%s-wal", t2.path);
    for (int b = 0; b < 3; b++) {
        ns_buf_init(&xml[b], 0);
        spread_events(&xml[b], 1 + b * 2000, 2000);
    }
    assert_int_equal(ns_store_open(&st, t1.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ns_store_set_checkpoints(st, 20, 4, 60), NS_OK);
    ns_store_set_batch_limit(st, 25);
    assert_int_equal(ns_store_open(&one, t2.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ns_store_set_checkpoints(one, 1 << 30, 0, 1 << 30), NS_OK);
    ns_store_set_batch_limit(one, 25);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml[0].data, xml[0].len).stored, 2000);
    assert_int_equal(ingest_buf(one, NS_FMT_XML, xml[0].data, xml[0].len).stored, 2000);
    /* the thread copied most back, the writer the rest, and the WAL started again */
    ns_store_checkpoint_counts(st, &passes, &own);
    assert_true(passes > 0);
    assert_true(own > 0);
    ns_store_checkpoint_counts(one, &passes, &own);
    assert_true(passes == 0 && own == 0);
    assert_true(file_size(wal1) > 0);
    assert_true(file_size(wal1) * 4 < file_size(wal2));
    /* a reader keeps its snapshot: checkpoints cannot copy past it, and the writer goes on */
    assert_int_equal(sqlite3_open_v2(t1.path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sql_int(reader, "PRAGMA page_size"), 16384); /* a new database's */
    assert_int_equal(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sql_int(reader, "SELECT count(*) FROM events"), 2000);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml[1].data, xml[1].len).stored, 2000);
    assert_int_equal(sql_int(reader, "SELECT count(*) FROM events"), 2000);
    assert_int_equal(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(reader), SQLITE_OK);
    assert_int_equal(ingest_buf(one, NS_FMT_XML, xml[1].data, xml[1].len).stored, 2000);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml[2].data, xml[2].len).stored, 2000);
    assert_int_equal(ingest_buf(one, NS_FMT_XML, xml[2].data, xml[2].len).stored, 2000);
    assert_int_equal(ingest_piped(st, &xml[1]).duplicates, 2000);
    assert_int_equal(ns_store_close(st), NS_OK);
    assert_int_equal(ns_store_close(one), NS_OK);
    assert_int_equal(file_size(wal1), 0); /* the last close copied back and removed it */
    assert_same_rollups(t1.path, t2.path);
    for (int b = 0; b < 3; b++) {
        ns_buf_free(&xml[b]);
    }
    tmpdb_remove(&t1);
    tmpdb_remove(&t2);
}

/* The views over a partial range sum each dependency's days (ns_dep_range, store/range.c)
 * the same whether ids are dense (an array) or sparse (a hash table), and equal the events. */
static void test_partial_range_sums(void **state)
{
    static const char *const views[] = {"dependencies", "accounts", "targets", "readiness",
                                        "ntlmv1"};
    struct tmpdb t;
    struct ns_store *st = NULL;
    struct ns_buf xml;
    struct ns_view_params p;
    json_t *dense[5], *sparse, *ev;
    char err[256];
    sqlite3 *db;
    (void)state;
    tmpdb_make(&t);
    ns_buf_init(&xml, 0);
    for (int k = 0; k < 600; k++) {
        char when[40], user[16], ws[16];
        snprintf(when, sizeof(when), "2026-05-%02dT08:%02d:00Z", k % 9 + 1, k % 60);
        snprintf(user, sizeof(user), "user%d", k % 13);
        snprintf(ws, sizeof(ws), "WS%02d", k % 7);
        xml_event(&xml, NTLM_PROV, NTLM_CH, k % 4 ? 4020 : 4021, ws, k + 1, when, "Username", user,
                  "TargetMachine", k % 3 ? "FS01" : "SQL01", "NtlmVersion",
                  k % 4 ? "NTLMv2" : "NTLMv1", NULL);
    }
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 600);
    ns_view_params_init(&p);
    assert_int_equal(ns_parse_date("2026-05-03", &p.since_day), NS_OK);
    assert_int_equal(ns_parse_date("2026-05-06", &p.until_day), NS_OK);
    for (size_t v = 0; v < 5; v++) {
        dense[v] = view(st, views[v], &p);
        assert_true(json_array_size(dense[v]) > 0);
    }
    /* the range's events: 4 of 9 days */
    {
        long sum = 0;
        size_t i;
        json_t *row;
        json_array_foreach(dense[0], i, row)
        {
            sum += (long)json_integer_value(json_object_get(row, "events"));
        }
        p.limit = 1000;
        ev = view(st, "events", &p);
        assert_int_equal(sum, (long)json_array_size(ev));
        assert_true(sum > 200 && sum < 300);
        json_decref(ev);
        p.limit = -1;
    }
    /* a reader keeps its last range's sums only while nothing changed: another connection
     * adds events in the range and the reader's next answer counts them */
    {
        struct ns_store *ro = NULL;
        struct ns_buf more;
        json_t *before, *again, *after, *fresh;
        ns_buf_init(&more, 0);
        xml_event(&more, NTLM_PROV, NTLM_CH, 4020, "WS00", 5000, "2026-05-04T09:00:00Z", "Username",
                  "user0", "TargetMachine", "FS01", "NtlmVersion", "NTLMv2", NULL);
        assert_int_equal(ns_store_open_readonly(&ro, t.path, err, sizeof(err)), NS_OK);
        before = view(ro, "dependencies", &p);
        again = view(ro, "dependencies", &p);
        assert_true(json_equal(before, again));
        assert_int_equal(ingest_buf(st, NS_FMT_XML, more.data, more.len).stored, 1);
        after = view(ro, "dependencies", &p);
        fresh = view(st, "dependencies", &p);
        assert_false(json_equal(before, after));
        assert_true(json_equal(after, fresh));
        json_decref(before);
        json_decref(again);
        json_decref(after);
        json_decref(fresh);
        assert_int_equal(ns_store_close(ro), NS_OK);
        ns_buf_free(&more);
        for (size_t v = 0; v < 5; v++) { /* the dense answers, with that event */
            json_decref(dense[v]);
            dense[v] = view(st, views[v], &p);
        }
    }
    assert_int_equal(ns_store_close(st), NS_OK);
    /* ids far apart: the sums go through the hash table */
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA foreign_keys = OFF;"
                                  "UPDATE dep SET id = id * 7000001;"
                                  "UPDATE dep_daily SET dep = dep * 7000001;"
                                  "UPDATE events SET dep = dep * 7000001;"
                                  "DELETE FROM dep_day_pack;", /* (packs hold the old ids) */
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_true(sql_int(db, "SELECT MAX(id) FROM dep") > 1000000);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    for (size_t v = 0; v < 5; v++) {
        sparse = view(st, views[v], &p);
        assert_true(json_equal(dense[v], sparse));
        json_decref(sparse);
        json_decref(dense[v]);
    }
    assert_int_equal(ns_store_close(st), NS_OK);
    ns_buf_free(&xml);
    tmpdb_remove(&t);
}

static const char *sql_file(const char *name)
{
    for (const struct ns_sql_file *f = ns_sql_files; f->name; f++) {
        if (!strcmp(f->name, name)) {
            return f->text;
        }
    }
    fail_msg("no sql/%s", name);
    return NULL;
}

/* One event of test_exception_lists_fold_case: a client's (4020) or a DC's (4030). */
static void exc_event(struct ns_buf *xml, int dc, int day, int rec, const char *computer,
                      const char *server, const char *client, const char *user, const char *domain)
{
    ns_buf_printf(xml,
                  "<Event><System><Provider Name=\"Microsoft-Windows-NTLM\"/>"
                  "<EventID>%d</EventID><Level>4</Level>"
                  "<TimeCreated SystemTime=\"2026-05-%02dT08:00:00.000000Z\"/>"
                  "<EventRecordID>%d</EventRecordID>"
                  "<Channel>Microsoft-Windows-NTLM/Operational</Channel>"
                  "<Computer>%s</Computer></System><EventData>",
                  dc ? 4030 : 4020, day, rec, computer);
    if (dc) {
        ns_buf_printf(xml,
                      "<Data Name=\"ServerName\">%s</Data><Data Name=\"ClientMachine\">%s</Data>",
                      server, client);
    } else {
        ns_buf_printf(xml, "<Data Name=\"TargetMachine\">%s</Data>", server);
    }
    if (user) {
        ns_buf_printf(xml, "<Data Name=\"%s\">%s</Data><Data Name=\"%s\">%s</Data>",
                      dc ? "ClientName" : "Username", user, dc ? "ClientDomain" : "DomainName",
                      domain);
    }
    ns_buf_adds(xml, "</EventData></Event>\n");
}

/* rows (an exception-list view's answer) is one server (its spelling unless NULL) with these
 * events, distinct clients and accounts. */
static void exc_row_is(json_t *rows, const char *server, long events, long clients, long accounts)
{
    json_t *r = json_array_get(rows, 0);
    assert_int_equal(json_array_size(rows), 1);
    if (server) {
        assert_non_null(json_string_value(json_object_get(r, "server")));
        assert_string_equal(json_string_value(json_object_get(r, "server")), server);
    }
    assert_int_equal(json_integer_value(json_object_get(r, "events")), events);
    assert_int_equal(json_integer_value(json_object_get(r, "clients")), clients);
    assert_int_equal(json_integer_value(json_object_get(r, "accounts")), accounts);
}

/* The exception lists (schema 14: keyed by the ids of folded names) count a server, client
 * or account however its case is written, show a server as first written, and read the same
 * after an upgrade from schema 13's text keys; hosts stay exact. */
static void test_exception_lists_fold_case(void **state)
{
    struct tmpdb t;
    struct ns_store *st = NULL;
    struct ns_buf xml;
    struct ns_view_params p;
    char err[256];
    json_t *remote, *domain, *hosts, *day2, *again;
    const char *const names[] = {"remote_server_exceptions", "domain_server_exceptions", "hosts"};
    sqlite3 *db;
    (void)state;
    tmpdb_make(&t);
    ns_buf_init(&xml, 0);
    exc_event(&xml, 0, 1, 1, "WS01.corp.example.com", "FS01.corp.example.com", NULL, "alice",
              "CORP");
    exc_event(&xml, 0, 1, 2, "ws01.CORP.example.com", "fs01.CORP.example.com", NULL, "ALICE",
              "corp");
    exc_event(&xml, 0, 2, 3, "WS02", "FS01.CORP.EXAMPLE.COM", NULL, "bob", "CORP");
    exc_event(&xml, 0, 2, 4, "WS02", "FS01.corp.example.com", NULL, NULL, NULL);
    exc_event(&xml, 1, 1, 5, "DC01", "SQL01", "WS03", "carol", "CORP");
    exc_event(&xml, 1, 2, 6, "DC01", "sql01", "ws03", "CAROL", "corp");
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    ns_store_set_batch_limit(st, 2); /* rows of one key across batches too */
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 6);

    remote = view(st, "remote_server_exceptions", NULL);
    exc_row_is(remote, "FS01.corp.example.com", 4, 2, 2);
    domain = view(st, "domain_server_exceptions", NULL);
    exc_row_is(domain, "SQL01", 2, 1, 1);
    /* one day: that day's rows only */
    ns_view_params_init(&p);
    assert_int_equal(ns_parse_date("2026-05-02", &p.since_day), NS_OK);
    p.until_day = p.since_day;
    day2 = view(st, "remote_server_exceptions", &p);
    exc_row_is(day2, NULL, 2, 1, 1);
    json_decref(day2);
    /* the hosts compare exactly, as they always did: three clients and the DC */
    hosts = view(st, "hosts", NULL);
    assert_int_equal(json_array_size(hosts), 4);
    assert_int_equal(ns_store_close(st), NS_OK);

    /* a schema 13 database of the same events reads the same once upgraded */
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, v13_rollups, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 13", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM exc_daily WHERE typeof(name) = 'text'"),
                     sql_int(db, "SELECT COUNT(*) FROM exc_daily"));
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        json_t *before = k == 0 ? remote : k == 1 ? domain : hosts;
        again = view(st, names[k], NULL);
        if (!json_equal(before, again)) {
            fail_msg("%s differs after the upgrade", names[k]);
        }
        json_decref(again);
    }
    /* and goes on counting into the upgraded rows */
    ns_buf_reset(&xml);
    exc_event(&xml, 0, 2, 7, "WS04", "Fs01.Corp.Example.Com", NULL, "dave", "CORP");
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 1);
    again = view(st, "remote_server_exceptions", NULL);
    exc_row_is(again, "FS01.corp.example.com", 5, 3, 3);
    json_decref(again);
    /* a day before 1970 (day -1: SQL's division would say 0) still shows its name */
    ns_buf_reset(&xml);
    exc_event(&xml, 0, 1, 8, "WS05", "OLD01", NULL, "erin", "CORP");
    memcpy(strstr(xml.data, "2026-05-01"), "1969-12-31", 10);
    assert_int_equal(ingest_buf(st, NS_FMT_XML, xml.data, xml.len).stored, 1);
    ns_view_params_init(&p);
    p.since_day = p.until_day = -1;
    again = view(st, "remote_server_exceptions", &p);
    exc_row_is(again, "OLD01", 1, 1, 1);
    json_decref(again);
    assert_int_equal(ns_store_close(st), NS_OK);
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    assert_int_equal(sql_int(db, "PRAGMA user_version"), NS_SCHEMA_VERSION);
    assert_int_equal(sql_int(db, "SELECT COUNT(*) FROM exc_daily WHERE typeof(name) <> 'integer'"),
                     0);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    json_decref(remote);
    json_decref(domain);
    json_decref(hosts);
    ns_buf_free(&xml);
    tmpdb_remove(&t);
}

static void test_migration_from_v1_keeps_events(void **state)
{
    struct tmpdb t;
    struct ns_store *st = NULL;
    sqlite3 *db;
    sqlite3_stmt *s;
    char err[256];
    json_t *rows;
    (void)state;
    tmpdb_make(&t);
    /* a database as version 1 of ntlmscope left it, with one event */
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql_file("schema.sql"), NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA user_version = 1;"
                                  "INSERT INTO events (channel, event_id, time_created, record_id,"
                                  " computer, account) VALUES ('Microsoft-Windows-NTLM/"
                                  "Operational', 8001, 1773280800000000, 5, 'WS01', 'old');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    rows = view(st, "events", NULL);
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "account")),
                        "old");
    json_decref(rows);
    assert_int_equal(ns_store_close(st), NS_OK);
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), NS_SCHEMA_VERSION);
    sqlite3_finalize(s);
    /* it keeps its pages of 4 KB (a new database has 16 KB ones: test_background_checkpoints) */
    assert_int_equal(sql_int(db, "PRAGMA page_size"), 4096);
    /* the later tables exist */
    assert_int_equal(sqlite3_exec(db,
                                  "SELECT dep, f FROM events; SELECT s FROM str;"
                                  " SELECT name FROM token; SELECT dep FROM dep_daily;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    tmpdb_remove(&t);
}

/* Events with every kind of value: the seeds' examples, and XML with hostile and long
 * names, hex fields, a message, an activity id and fields the catalogue does not know. */
static void collect_varied(struct collect *c)
{
    static const char xml[] =
        "<Event><System><Provider Name=\"Microsoft-Windows-NTLM\"/><EventID>4020</EventID>"
        "<Version>1</Version><Level>4</Level><Task>0</Task><Opcode>0</Opcode>"
        "<Keywords>0x8000000000000000</Keywords>"
        "<TimeCreated SystemTime=\"2026-03-12T08:00:00.1234567Z\"/>"
        "<EventRecordID>77</EventRecordID><Correlation ActivityID=\"{0A1B2C3D-0000-1111-2222-"
        "333344445555}\"/><Execution ProcessID=\"812\" ThreadID=\"9000\"/>"
        "<Channel>Microsoft-Windows-NTLM/Operational</Channel>"
        "<Computer>ws99.corp.example.com</Computer><Security UserID=\"S-1-5-18\"/></System>"
        "<EventData><Data Name=\"Username\">&lt;img src=x onerror=alert(1)&gt;</Data>"
        "<Data Name=\"DomainName\">=cmd|' /C calc'!A0</Data>"
        "<Data Name=\"ProcessName\">C:\\Program Files\\Δοκιμή\\日本語.exe</Data>"
        "<Data Name=\"ProcessPID\">0x1f4</Data><Data Name=\"ClientLUID\">0xfffffffffffffffe</Data>"
        "<Data Name=\"TargetMachine\">\\\\fs01.corp.example.com</Data>"
        "<Data Name=\"NtlmUsageId\">6</Data><Data Name=\"NtlmVersion\">NTLMv1</Data>"
        "<Data Name=\"NegotiatedFlags\">0xe2888215</Data>"
        "<Data Name=\"SomethingNew\">kept in extra</Data></EventData>"
        "<RenderingInfo Culture=\"en-US\"><Message>NTLM was used: \"quoted\" &amp; more"
        "</Message></RenderingInfo></Event>\n"
        "<Event><System><Provider Name=\"Microsoft-Windows-NTLM\"/><EventID>4001</EventID>"
        "<Level>3</Level><TimeCreated SystemTime=\"2026-03-12T08:00:01Z\"/>"
        "<EventRecordID>78</EventRecordID><Channel>Microsoft-Windows-NTLM/Operational</Channel>"
        "<Computer>WS99</Computer></System><EventData><Data Name=\"TargetName\">"
        "HTTP/intranet.corp.example.com@CORP.EXAMPLE.COM</Data>"
        "<Data Name=\"ProcessId\">-1</Data><Data Name=\"CallerPID\">4</Data>"
        "</EventData></Event>\n";
    char seeds[16384];
    size_t len;
    FILE *f = fopen(NS_TEST_DATA "/seeds-000-examples.json", "rb");
    assert_non_null(f);
    len = fread(seeds, 1, sizeof(seeds), f);
    fclose(f);
    assert_true(len > 0 && len < sizeof(seeds));
    assert_int_equal(parse_buffer(c, NS_FMT_JSON, seeds, len, 0), NS_OK);
    assert_int_equal(parse_buffer(c, NS_FMT_XML, xml, strlen(xml), 0), NS_OK);
    assert_int_equal(c->rejected, 0);
    assert_true(c->n >= 6);
}

/* Writes events into a database as schema version 4 stored them: one column per field. */
static void write_v4(const char *path, const struct collect *c, const char *agent)
{
    static const char *const files[] = {"schema.sql", "migrate_002_agents.sql",
                                        "migrate_003_exceptions.sql",
                                        "migrate_004_dep_dimension.sql"};
    sqlite3 *db;
    sqlite3_stmt *s;
    struct ns_buf sql;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
        assert_int_equal(sqlite3_exec(db, sql_file(files[k]), NULL, NULL, NULL), SQLITE_OK);
    }
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 4", NULL, NULL, NULL), SQLITE_OK);
    ns_buf_init(&sql, 0);
    ns_buf_adds(&sql, "INSERT INTO events (");
    for (int f = 0; f < NS_F_COUNT; f++) {
        ns_buf_printf(&sql, "%s, ", ns_fields[f].name);
    }
    ns_buf_adds(&sql, "agent) VALUES (");
    for (int f = 0; f < NS_F_COUNT; f++) {
        ns_buf_adds(&sql, "?, ");
    }
    ns_buf_adds(&sql, "?)");
    assert_int_equal(sqlite3_prepare_v2(db, sql.data, -1, &s, NULL), SQLITE_OK);
    for (size_t k = 0; k < c->n; k++) {
        const struct ns_event *ev = &c->ev[k];
        for (int f = 0; f < NS_F_COUNT; f++) {
            if (!ev->has[f]) {
                sqlite3_bind_null(s, f + 1);
            } else if (ns_fields[f].kind == NS_K_TEXT || ns_fields[f].kind == NS_K_HEX) {
                sqlite3_bind_text(s, f + 1, ev->s[f], -1, SQLITE_STATIC);
            } else {
                sqlite3_bind_int64(s, f + 1, ev->i[f]);
            }
        }
        sqlite3_bind_text(s, NS_F_COUNT + 1, agent, -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    ns_buf_free(&sql);
    sqlite3_close(db);
}

static void test_migration_v4_compacts_events(void **state)
{
    struct tmpdb a, b;
    struct ns_store *st = NULL;
    struct collect *c = collect_new();
    char err[256];
    json_t *fresh, *migrated, *again;
    sqlite3 *db;
    sqlite3_stmt *s;
    struct ns_view_params p;
    (void)state;
    collect_varied(c);
    /* the same events ingested by this build, and migrated from version 4 */
    tmpdb_make(&a);
    assert_int_equal(ns_store_open(&st, a.path, err, sizeof(err)), NS_OK);
    ns_store_set_agent(st, "dc01-agent");
    for (size_t k = 0; k < c->n; k++) {
        int dup;
        assert_int_equal(ns_store_add(st, &c->ev[k], &dup), NS_OK);
        assert_int_equal(dup, 0);
    }
    assert_int_equal(ns_store_commit(st), NS_OK);
    fresh = view(st, "events", NULL);
    assert_int_equal(ns_store_close(st), NS_OK);

    tmpdb_make(&b);
    write_v4(b.path, c, "dc01-agent");
    assert_int_equal(ns_store_open(&st, b.path, err, sizeof(err)), NS_OK);
    migrated = view(st, "events", NULL);
    assert_int_equal(json_array_size(migrated), c->n);
    assert_true(json_equal(fresh, migrated));
    /* every value came through, e.g. the hostile name, the hex LUID and the message */
    {
        char *dump = json_dumps(migrated, 0);
        assert_non_null(strstr(dump, "<img src=x onerror=alert(1)>"));
        assert_non_null(strstr(dump, "0xfffffffffffffffe"));
        assert_non_null(strstr(dump, "NTLM was used: \\\"quoted\\\" & more"));
        assert_non_null(strstr(dump, "{0A1B2C3D-0000-1111-2222-333344445555}"));
        free(dump);
    }
    /* a re-read of the same events stores nothing */
    for (size_t k = 0; k < c->n; k++) {
        int dup;
        assert_int_equal(ns_store_add(st, &c->ev[k], &dup), NS_OK);
        assert_int_equal(dup, 1);
    }
    assert_int_equal(ns_store_commit(st), NS_OK);
    /* the events behind one dependency, through its filters */
    ns_view_params_init(&p);
    p.filter[NS_Q_CLIENT] = "ws99.corp.example.com";
    p.filter[NS_Q_TARGET] = "FS01";
    again = view(st, "events", &p);
    assert_int_equal(json_array_size(again), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(again, 0), "account")),
                        "<img src=x onerror=alert(1)>");
    json_decref(again);
    assert_int_equal(ns_store_close(st), NS_OK);

    /* strings are stored once; the agent is kept */
    assert_int_equal(sqlite3_open(b.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT count(*) FROM str WHERE s = 'dc01-agent'),"
                                        " (SELECT count(*) FROM sqlite_master WHERE name ="
                                        " 'events_v4'), (SELECT count(*) FROM events)",
                                        -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 1);
    assert_int_equal(sqlite3_column_int(s, 1), 0);
    assert_int_equal(sqlite3_column_int(s, 2), (int)c->n);
    sqlite3_finalize(s);
    sqlite3_close(db);

    json_decref(fresh);
    json_decref(migrated);
    collect_free(c);
    tmpdb_remove(&a);
    tmpdb_remove(&b);
}

static int count_agent(void *ctx, const struct ns_agent_info *a)
{
    int *n = ctx;
    (*n)++;
    assert_non_null(a->name);
    return NS_OK;
}

static void test_tokens(void **state)
{
    struct tmpdb t;
    struct ns_store *st = NULL, *rd = NULL;
    char err[256], tok[2 * NS_TOKEN_BYTES + 1], tok2[2 * NS_TOKEN_BYTES + 1], name[80];
    sqlite3 *db;
    sqlite3_stmt *s;
    int n = 0;
    (void)state;
    tmpdb_make(&t);
    assert_int_equal(ns_store_open(&st, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ns_token_add(st, "dc01-agent", tok, err, sizeof(err)), NS_OK);
    assert_int_equal(strlen(tok), 64);
    assert_int_equal(ns_token_add(st, "dc01-agent", tok2, err, sizeof(err)), NS_EINVAL);
    assert_int_equal(ns_token_add(st, "bad name;--", tok2, err, sizeof(err)), NS_EINVAL);
    assert_int_equal(ns_token_add(st, "fs-agent", tok2, err, sizeof(err)), NS_OK);
    assert_string_not_equal(tok, tok2);
    /* a reader sees the tokens; the right one names its agent */
    assert_int_equal(ns_store_open_readonly(&rd, t.path, err, sizeof(err)), NS_OK);
    assert_int_equal(ns_token_check(rd, tok, name, sizeof(name)), NS_OK);
    assert_string_equal(name, "dc01-agent");
    assert_int_equal(ns_token_check(rd, tok2, name, sizeof(name)), NS_OK);
    assert_string_equal(name, "fs-agent");
    tok[0] = tok[0] == 'a' ? 'b' : 'a';
    assert_int_equal(ns_token_check(rd, tok, name, sizeof(name)), NS_ENOTFOUND);
    assert_int_equal(ns_token_check(rd, "", name, sizeof(name)), NS_ENOTFOUND);
    /* revocation applies to the next check */
    assert_int_equal(ns_token_revoke(st, "fs-agent"), NS_OK);
    assert_int_equal(ns_token_revoke(st, "fs-agent"), NS_ENOTFOUND);
    assert_int_equal(ns_token_check(rd, tok2, name, sizeof(name)), NS_ENOTFOUND);
    assert_int_equal(ns_token_list(st, count_agent, &n), NS_OK);
    assert_int_equal(n, 2);
    /* a read-only store never writes */
    {
        struct ns_event ev;
        int dup;
        ns_event_init(&ev);
        assert_int_equal(ns_store_add(rd, &ev, &dup), NS_EDB);
        ns_event_free(&ev);
    }
    assert_int_equal(ns_store_close(rd), NS_OK);
    assert_int_equal(ns_store_close(st), NS_OK);
    /* only hashes are stored */
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT hash FROM token", -1, &s, NULL), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(s, 0);
        assert_int_equal(strlen(h), 64);
        assert_string_not_equal(h, tok2);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    tmpdb_remove(&t);
}

static void test_sha256_vectors(void **state)
{
    static const struct {
        const char *in;  /* message */
        const char *out; /* FIPS 180-4 digest */
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    char hex[65];
    unsigned char d[32];
    (void)state;
    for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
        ns_sha256(v[k].in, strlen(v[k].in), d);
        ns_hex(d, 32, hex);
        assert_string_equal(hex, v[k].out);
    }
    /* a million 'a' crosses many blocks */
    {
        char *m = malloc(1000000);
        assert_non_null(m);
        memset(m, 'a', 1000000);
        ns_sha256(m, 1000000, d);
        ns_hex(d, 32, hex);
        assert_string_equal(hex,
                            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        free(m);
    }
    assert_true(ns_consttime_eq("abc", "abc", 3));
    assert_false(ns_consttime_eq("abc", "abd", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicates_across_files_and_formats),
        cmocka_unit_test(test_rollups_match_raw_events),
        cmocka_unit_test(test_rollup_rows_end_a_batch),
        cmocka_unit_test(test_view_keys),
        cmocka_unit_test(test_schema_version_checked),
        cmocka_unit_test(test_unknown_view),
        cmocka_unit_test(test_migration_from_v1_keeps_events),
        cmocka_unit_test(test_migration_v4_compacts_events),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_ingest_pipeline),
        cmocka_unit_test(test_duplicates_in_slices),
        cmocka_unit_test(test_addresses_inline),
        cmocka_unit_test(test_dependency_ids_across_batches),
        cmocka_unit_test(test_partial_range_sums),
        cmocka_unit_test(test_exception_lists_fold_case),
        cmocka_unit_test(test_two_writers),
        cmocka_unit_test(test_latest_address),
        cmocka_unit_test(test_background_checkpoints),
        cmocka_unit_test(test_new_dependencies_in_a_row),
        cmocka_unit_test(test_search_dependencies),
        cmocka_unit_test(test_grouped_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
