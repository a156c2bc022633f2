/*
 * sqlite_insert.c - the store limit: one 24-column row per event inserted into SQLite with a
 * prepared statement, 10,000 rows per transaction, WAL, synchronous=NORMAL, with the same
 * unique (computer, channel, record, time) key as ntlmscope. Values follow the generator's
 * distributions. Nothing else (no parsing, no rollups).
 *
 * usage: ns-bench-sqlite DBFILE EVENTS [HOSTS]     prints: events seconds bytes
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static unsigned long long s = 88172645463325252ull;
static unsigned long long rnd(void)
{
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

int main(int argc, char **argv)
{
    sqlite3 *db;
    sqlite3_stmt *ins;
    long long n = argc > 2 ? strtoll(argv[2], NULL, 10) : 1000000;
    unsigned hosts = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 2000;
    unsigned long long *rec = calloc(hosts, sizeof(*rec));
    struct timespec t0, t1;
    struct stat st;
    char computer[48], account[32], client[32], target[32];
    if (argc < 3 || !rec || sqlite3_open(argv[1], &db) != SQLITE_OK) {
        fputs("usage: ns-bench-sqlite DBFILE EVENTS [HOSTS]\n", stderr);
        return 2;
    }
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE e (channel TEXT, provider TEXT, event_id INT, level INT, "
                 "keywords TEXT, time_created INT, record_id INT, computer TEXT, exec_pid INT, "
                 "exec_tid INT, user_sid TEXT, role TEXT, outcome TEXT, account TEXT, "
                 "account_domain TEXT, process_name TEXT, process_pid INT, client_machine TEXT, "
                 "client_ip TEXT, target_machine TEXT, target_service TEXT, reason_id INT, "
                 "ntlm_version TEXT, mic TEXT);"
                 "CREATE UNIQUE INDEX ek ON e (computer, channel, record_id, time_created);",
                 NULL, NULL, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO e VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,"
                       "?16,?17,?18,?19,?20,?21,?22,?23,?24) ON CONFLICT DO NOTHING",
                       -1, &ins, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long long k = 0; k < n; k++) {
        unsigned h = (unsigned)(rnd() % hosts);
        double u = (double)(rnd() >> 11) / 9007199254740992.0;
        if (k % 10000 == 0) {
            sqlite3_exec(db, k ? "COMMIT; BEGIN" : "BEGIN", NULL, NULL, NULL);
        }
        snprintf(computer, sizeof(computer), "WS%05u.corp.example.com", h);
        snprintf(account, sizeof(account), "user%05u", (unsigned)(u * u * u * hosts));
        snprintf(client, sizeof(client), "WS%05u", (unsigned)(rnd() % hosts));
        snprintf(target, sizeof(target), "SRV%03u", (unsigned)(u * u * 40));
        sqlite3_bind_text(ins, 1, "Microsoft-Windows-NTLM/Operational", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, "Microsoft-Windows-NTLM", -1, SQLITE_STATIC);
        sqlite3_bind_int(ins, 3, 4020);
        sqlite3_bind_int(ins, 4, 4);
        sqlite3_bind_text(ins, 5, "0x8000000000000000", -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 6, 1790000000000000LL + k * 1000);
        sqlite3_bind_int64(ins, 7, (long long)++rec[h]);
        sqlite3_bind_text(ins, 8, computer, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(ins, 9, 600);
        sqlite3_bind_int(ins, 10, 1000 + (int)(k % 9000));
        sqlite3_bind_text(ins, 11, "S-1-5-18", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 12, "client", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 13, "used", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 14, account, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 15, "CORP", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 16, "C:\\Windows\\explorer.exe", -1, SQLITE_STATIC);
        sqlite3_bind_int(ins, 17, 0x400 + (int)(k % 60000));
        sqlite3_bind_text(ins, 18, client, -1, SQLITE_TRANSIENT);
        sqlite3_bind_null(ins, 19);
        sqlite3_bind_text(ins, 20, target, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 21, "cifs", -1, SQLITE_STATIC);
        sqlite3_bind_int(ins, 22, (int)(rnd() % 12));
        sqlite3_bind_text(ins, 23, "NTLMv2", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 24, "Protected", -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
            return 1;
        }
        sqlite3_reset(ins);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    sqlite3_finalize(ins);
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(db);
    stat(argv[1], &st);
    printf("%lld %.3f %lld\n", n, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
           (long long)st.st_size);
    free(rec);
    return 0;
}
