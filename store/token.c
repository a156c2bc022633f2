/*
 * token.c - agent tokens (stored as SHA-256 hashes, checked in constant time) and the
 * record of what each agent delivered.
 */
#include <string.h>
#include <time.h>

#include "store_int.h"

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64) {
        return 0;
    }
    for (size_t k = 0; k < n; k++) {
        char c = name[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Hex SHA-256 of a token. */
static void token_hash(const char *token, char out[65])
{
    unsigned char digest[32];
    ns_sha256(token, strlen(token), digest);
    ns_hex(digest, sizeof(digest), out);
}

int ns_token_add(struct ns_store *st, const char *name, char token[2 * NS_TOKEN_BYTES + 1],
                 char *err, size_t errlen)
{
    unsigned char raw[NS_TOKEN_BYTES];
    char hash[65];
    sqlite3_stmt *s;
    int step, rc = NS_OK;
    if (!valid_name(name)) {
        snprintf(err, errlen, "a token name is 1 to 64 letters, digits, '.', '_' or '-'");
        return NS_EINVAL;
    }
    if (ns_random(raw, sizeof(raw)) != NS_OK) {
        snprintf(err, errlen, "no random bytes from the kernel");
        return NS_EIO;
    }
    ns_hex(raw, sizeof(raw), token);
    token_hash(token, hash);
    if (!(s = ns_store_stmt(st, NS_STMT_TOKEN_ADD))) {
        snprintf(err, errlen, "%s", st->errmsg);
        return NS_EDB;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now_us());
    step = sqlite3_step(s);
    if (step == SQLITE_CONSTRAINT) {
        snprintf(err, errlen, "a token named \"%s\" exists already (revoke it first)", name);
        rc = NS_EINVAL;
    } else if (step != SQLITE_DONE) {
        rc = ns_store_fail(st, "adding a token");
        snprintf(err, errlen, "%s", st->errmsg);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != NS_OK) {
        memset(token, 0, 2 * NS_TOKEN_BYTES + 1);
    }
    return rc;
}

int ns_token_revoke(struct ns_store *st, const char *name)
{
    sqlite3_stmt *s = ns_store_stmt(st, NS_STMT_TOKEN_REVOKE);
    int rc = NS_OK;
    if (!s) {
        return NS_EDB;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now_us());
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = ns_store_fail(st, "revoking a token");
    } else if (sqlite3_changes(st->db) == 0) {
        rc = NS_ENOTFOUND;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

int ns_token_check(struct ns_store *st, const char *token, char *name, size_t namelen)
{
    sqlite3_stmt *s = ns_store_stmt(st, NS_STMT_TOKEN_VALID);
    char hash[65];
    int step, found = 0;
    if (!s) {
        return NS_EDB;
    }
    token_hash(token, hash);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(s, 1);
        /* every row is compared in full, whether or not one matched already */
        if (h && strlen(h) == 64 && ns_consttime_eq(h, hash, 64) && !found) {
            snprintf(name, namelen, "%s", (const char *)sqlite3_column_text(s, 0));
            found = 1;
        }
    }
    sqlite3_reset(s);
    if (step != SQLITE_DONE) {
        return ns_store_fail(st, "checking a token");
    }
    return found ? NS_OK : NS_ENOTFOUND;
}

int ns_agent_seen(struct ns_store *st, const char *agent, const char *address, int64_t now,
                  uint64_t stored, uint64_t duplicates)
{
    sqlite3_stmt *s = ns_store_stmt(st, NS_STMT_AGENT_SEEN);
    int rc = NS_OK;
    if (!s) {
        return NS_EDB;
    }
    sqlite3_bind_text(s, 1, agent, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    if (address) {
        sqlite3_bind_text(s, 3, address, -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(s, 3);
    }
    sqlite3_bind_int64(s, 4, (int64_t)stored);
    sqlite3_bind_int64(s, 5, (int64_t)duplicates);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = ns_store_fail(st, "recording an agent");
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

static int64_t col_or_zero(sqlite3_stmt *s, int c)
{
    return sqlite3_column_type(s, c) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, c);
}

int ns_token_list(struct ns_store *st, ns_agent_fn fn, void *ctx)
{
    sqlite3_stmt *s = ns_store_stmt(st, NS_STMT_TOKEN_LIST);
    int step, rc = NS_OK;
    if (!s) {
        return NS_EDB;
    }
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        struct ns_agent_info a;
        memset(&a, 0, sizeof(a));
        a.name = (const char *)sqlite3_column_text(s, 0);
        a.created = col_or_zero(s, 1);
        a.revoked = col_or_zero(s, 2);
        a.last_seen = col_or_zero(s, 3);
        a.last_address = (const char *)sqlite3_column_text(s, 4);
        a.batches = col_or_zero(s, 5);
        a.events = col_or_zero(s, 6);
        if ((rc = fn(ctx, &a)) != NS_OK) {
            break;
        }
    }
    if (rc == NS_OK && step != SQLITE_DONE) {
        rc = ns_store_fail(st, "listing tokens");
    }
    sqlite3_reset(s);
    return rc;
}

int ns_agent_list(struct ns_store *st, ns_agent_fn fn, void *ctx)
{
    sqlite3_stmt *s = ns_store_stmt(st, NS_STMT_AGENT_LIST);
    int step, rc = NS_OK;
    if (!s) {
        return NS_EDB;
    }
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        struct ns_agent_info a;
        memset(&a, 0, sizeof(a));
        a.name = (const char *)sqlite3_column_text(s, 0);
        a.first_seen = col_or_zero(s, 1);
        a.last_seen = col_or_zero(s, 2);
        a.last_address = (const char *)sqlite3_column_text(s, 3);
        a.batches = col_or_zero(s, 4);
        a.events = col_or_zero(s, 5);
        a.duplicates = col_or_zero(s, 6);
        if ((rc = fn(ctx, &a)) != NS_OK) {
            break;
        }
    }
    if (rc == NS_OK && step != SQLITE_DONE) {
        rc = ns_store_fail(st, "listing agents");
    }
    sqlite3_reset(s);
    return rc;
}

int ns_summary_was_sent(struct ns_store *st, int64_t week_ending, int *sent)
{
    sqlite3_stmt *s = ns_store_stmt(st, NS_STMT_SUMMARY_GET);
    int step, rc = NS_OK;
    if (!s) {
        return NS_EDB;
    }
    sqlite3_bind_int64(s, 1, week_ending);
    step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        *sent = 1;
    } else if (step == SQLITE_DONE) {
        *sent = 0;
    } else {
        rc = ns_store_fail(st, "reading the summaries sent");
    }
    sqlite3_reset(s);
    return rc;
}

int ns_summary_mark_sent(struct ns_store *st, int64_t week_ending, int64_t now,
                         const char *recipients)
{
    sqlite3_stmt *s = ns_store_stmt(st, NS_STMT_SUMMARY_ADD);
    int rc = NS_OK;
    if (!s) {
        return NS_EDB;
    }
    sqlite3_bind_int64(s, 1, week_ending);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_text(s, 3, recipients, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = ns_store_fail(st, "recording a summary sent");
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}
