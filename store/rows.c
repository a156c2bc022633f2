/*
 * rows.c - the table-valued function ns_rows(src): rows the store holds in memory (a batch's
 * rollup rows), so that the flush writes each rollup table with one statement,
 *   INSERT INTO t (...) SELECT c0, c1, ... FROM ns_rows(?1) WHERE true ON CONFLICT ...
 * rather than one statement per row: starting and ending a statement (its cursors, its
 * statement journal, its reset) cost about as much as writing the row itself. src is a
 * struct ns_rows bound with sqlite3_bind_pointer (type "ns_rows"), so SQL text cannot make
 * one up; the function yields nothing without it.
 */
#include "ns_sql.h"
#include "store_int.h"

#include <string.h>

/* The hidden argument's column. */
#define COL_SRC NS_ROWS_COLS

struct rows_cursor {
    sqlite3_vtab_cursor base; /* first: SQLite's part */
    struct ns_rows *src;      /* the rows (NULL: none) */
    size_t at;                /* current row */
};

static int rows_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                        sqlite3_vtab **out, char **err)
{
    sqlite3_vtab *v;
    int rc;
    (void)aux;
    (void)argc;
    (void)argv;
    (void)err;
    if ((rc = sqlite3_declare_vtab(db, ns_sql_text("rows_columns.sql"))) != SQLITE_OK) {
        return rc;
    }
    if (!(v = sqlite3_malloc(sizeof(*v)))) {
        return SQLITE_NOMEM;
    }
    memset(v, 0, sizeof(*v));
    sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
    *out = v;
    return SQLITE_OK;
}

static int rows_disconnect(sqlite3_vtab *vt)
{
    sqlite3_free(vt);
    return SQLITE_OK;
}

/* src is required, as an equality constraint on the hidden column. */
static int rows_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    (void)vt;
    for (int k = 0; k < info->nConstraint; k++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[k];
        if (c->iColumn == COL_SRC && c->op == SQLITE_INDEX_CONSTRAINT_EQ) {
            if (!c->usable) {
                return SQLITE_CONSTRAINT;
            }
            info->aConstraintUsage[k].argvIndex = 1;
            info->aConstraintUsage[k].omit = 1;
            info->estimatedCost = 1000;
            info->estimatedRows = 1000;
            return SQLITE_OK;
        }
    }
    return SQLITE_CONSTRAINT;
}

static int rows_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    struct rows_cursor *c = sqlite3_malloc(sizeof(*c));
    (void)vt;
    if (!c) {
        return SQLITE_NOMEM;
    }
    memset(c, 0, sizeof(*c));
    *out = &c->base;
    return SQLITE_OK;
}

static int rows_close(sqlite3_vtab_cursor *cur)
{
    sqlite3_free(cur);
    return SQLITE_OK;
}

static int rows_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc,
                       sqlite3_value **argv)
{
    struct rows_cursor *c = (struct rows_cursor *)cur;
    (void)idx;
    (void)idxstr;
    c->src = argc == 1 ? sqlite3_value_pointer(argv[0], "ns_rows") : NULL;
    c->at = c->src ? c->src->base : 0;
    if (c->src) {
        c->src->cur = c->at;
    }
    return SQLITE_OK;
}

static int rows_next(sqlite3_vtab_cursor *cur)
{
    struct rows_cursor *c = (struct rows_cursor *)cur;
    c->src->cur = ++c->at;
    return SQLITE_OK;
}

static int rows_eof(sqlite3_vtab_cursor *cur)
{
    const struct rows_cursor *c = (const struct rows_cursor *)cur;
    return !c->src || c->at >= c->src->end;
}

static int rows_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const struct rows_cursor *c = (const struct rows_cursor *)cur;
    if (col >= 0 && col < NS_ROWS_COLS) {
        c->src->column(c->src->ctx, c->at, col, ctx);
    } else {
        sqlite3_result_null(ctx);
    }
    return SQLITE_OK;
}

static int rows_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((const struct rows_cursor *)cur)->at;
    return SQLITE_OK;
}

static const sqlite3_module rows_module = {
    .iVersion = 0,
    .xConnect = rows_connect,
    .xBestIndex = rows_best_index,
    .xDisconnect = rows_disconnect,
    .xOpen = rows_open,
    .xClose = rows_close,
    .xFilter = rows_filter,
    .xNext = rows_next,
    .xEof = rows_eof,
    .xColumn = rows_column,
    .xRowid = rows_rowid,
};

/* ns_rows_dup(src): marks the row of src being written as a duplicate and answers 0, for
 * INSERT ... SELECT ... FROM ns_rows(src) ON CONFLICT DO UPDATE ... WHERE ns_rows_dup(src):
 * the conflict of a row is handled before its next row is read, so the row being read is the
 * one in conflict, and nothing is updated. */
static void rows_dup(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct ns_rows *r = argc == 1 ? sqlite3_value_pointer(argv[0], "ns_rows") : NULL;
    if (r && r->dup && r->cur < r->end) {
        r->dup[r->cur] = 1;
    }
    sqlite3_result_int(ctx, 0);
}

int ns_rows_register(sqlite3 *db)
{
    if (sqlite3_create_module(db, "ns_rows", &rows_module, NULL) != SQLITE_OK ||
        sqlite3_create_function(db, "ns_rows_dup", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
                                rows_dup, NULL, NULL) != SQLITE_OK) {
        return NS_EDB;
    }
    return NS_OK;
}

int ns_rows_write(struct ns_store *st, sqlite3_stmt *s, struct ns_rows *rows, const char *what)
{
    /* a statement at a time over a window of the rows: a statement keeps the pages it
     * changes in its journal (in memory) until it ends */
    for (rows->base = 0; rows->base < rows->n; rows->base = rows->end) {
        int step;
        rows->end = rows->n - rows->base > NS_ROWS_WINDOW ? rows->base + NS_ROWS_WINDOW : rows->n;
        rows->cur = rows->base;
        if (sqlite3_bind_pointer(s, 1, rows, "ns_rows", NULL) != SQLITE_OK) {
            return ns_store_fail(st, what);
        }
        step = sqlite3_step(s);
        sqlite3_reset(s);
        sqlite3_clear_bindings(s); /* the rows are the caller's, gone after this */
        if (step != SQLITE_DONE) {
            return ns_store_fail(st, what);
        }
    }
    return NS_OK;
}
