/*
 * cli.c - option parsing and the ingest, report and demo subcommands.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ns_report.h"

const char *ns_cli_db_path(const char *opt)
{
    const char *env = getenv("NTLMSCOPE_DB");
    if (opt && *opt) {
        return opt;
    }
    return env && *env ? env : "ntlmscope.db";
}

int ns_cli_parse(const char *cmd, int argc, char **argv, const struct ns_opt *opts,
                 char **positional, int maxpos)
{
    int npos = 0, only_pos = 0;
    for (int a = 1; a < argc; a++) {
        const struct ns_opt *o = NULL;
        const char *arg = argv[a], *val = NULL, *eq;
        size_t nlen;
        if (only_pos || arg[0] != '-' || !strcmp(arg, "-")) {
            if (npos >= maxpos) {
                fprintf(stderr, "ntlmscope %s: too many arguments (\"%s\")\n", cmd, arg);
                return -1;
            }
            positional[npos++] = argv[a];
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_pos = 1;
            continue;
        }
        eq = strchr(arg, '=');
        nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        for (const struct ns_opt *k = opts; k->name; k++) {
            if (strlen(k->name) == nlen && !strncmp(k->name, arg, nlen)) {
                o = k;
            }
        }
        if (!o) {
            fprintf(stderr, "ntlmscope %s: unknown option \"%.*s\" (see ntlmscope --help)\n", cmd,
                    (int)nlen, arg);
            return -1;
        }
        if (o->kind == NS_OPT_MULTI) {
            char *v = eq ? (char *)eq + 1 : a + 1 < argc ? argv[++a] : NULL;
            if (!v) {
                fprintf(stderr, "ntlmscope %s: %s needs a value\n", cmd, o->name);
                return -1;
            }
            if (ns_multi_add(o->target, v) != 0) {
                fprintf(stderr, "ntlmscope %s: too many %s values\n", cmd, o->name);
                return -1;
            }
            continue;
        }
        if (o->kind == NS_OPT_FLAG) {
            if (eq) {
                fprintf(stderr, "ntlmscope %s: %s takes no value\n", cmd, o->name);
                return -1;
            }
            *(int *)o->target = 1;
            continue;
        }
        if (eq) {
            val = eq + 1;
        } else if (a + 1 < argc) {
            val = argv[++a];
        } else {
            fprintf(stderr, "ntlmscope %s: %s needs a value\n", cmd, o->name);
            return -1;
        }
        *(const char **)o->target = val;
    }
    return npos;
}

int ns_multi_add(struct ns_multi *m, char *s)
{
    char *save = NULL;
    for (char *tok = s; tok; tok = save) {
        save = strchr(tok, ',');
        if (save) {
            *save++ = '\0';
        }
        while (*tok == ' ' || *tok == '\t') {
            tok++;
        }
        for (char *e = tok + strlen(tok); e > tok && (e[-1] == ' ' || e[-1] == '\t');) {
            *--e = '\0';
        }
        if (!*tok) {
            continue;
        }
        if (m->n >= (int)(sizeof(m->v) / sizeof(m->v[0]))) {
            return -1;
        }
        m->v[m->n++] = tok;
    }
    return 0;
}

/* Parses a whole non-negative number; prints an error naming the option. */
static int parse_count(const char *cmd, const char *opt, const char *s, int64_t max, int64_t *out)
{
    int64_t v;
    if (ns_parse_int(s, &v) != NS_OK || v < 0 || v > max || strchr(s, 'x') || strchr(s, 'X')) {
        fprintf(stderr, "ntlmscope %s: %s wants a whole number from 0 to %lld, not \"%s\"\n", cmd,
                opt, (long long)max, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_day(const char *cmd, const char *opt, const char *s, int64_t *out)
{
    if (ns_parse_date(s, out) != NS_OK) {
        fprintf(stderr, "ntlmscope %s: %s wants a date YYYY-MM-DD, not \"%s\"\n", cmd, opt, s);
        return -1;
    }
    return 0;
}

/* ========================================================================================== */
/* ingest                                                                                      */
/* ========================================================================================== */

#define MAX_FILES 4096
#define REJECTS_SHOWN 20

/* Terminal progress and rejection reporting for one ingest run. */
struct ingest_ui {
    int tty;              /* stderr is a terminal: show progress */
    const char *file;     /* file being read */
    struct ns_ingest *in; /* counts */
    double last;          /* time of the last progress line */
    int progress_shown;   /* a progress line is on screen */
    unsigned shown;       /* rejections printed for this file */
    unsigned hidden;      /* rejections not printed for this file */
};

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void clear_progress(struct ingest_ui *ui)
{
    if (ui->progress_shown) {
        fputs("\r\033[K", stderr);
        ui->progress_shown = 0;
    }
}

static void show_progress(void *ctx, uint64_t done, uint64_t total)
{
    struct ingest_ui *ui = ctx;
    double t = now_s();
    uint64_t evs;
    if (!ui->tty || t - ui->last < 0.25) {
        return;
    }
    ui->last = t;
    evs = ui->in->handed + ui->in->n.skipped + ui->in->n.rejected;
    if (total) {
        fprintf(stderr, "\r\033[K%s: %.1f%% (%.1f of %.1f MB), %llu events", ui->file,
                100.0 * (double)done / (double)total, done / 1e6, total / 1e6,
                (unsigned long long)evs);
    } else {
        fprintf(stderr, "\r\033[K%s: %.1f MB, %llu events", ui->file, done / 1e6,
                (unsigned long long)evs);
    }
    ui->progress_shown = 1;
}

static void print_reject(void *ctx, const char *source, const char *where, const char *why)
{
    struct ingest_ui *ui = ctx;
    if (ui->shown >= REJECTS_SHOWN) {
        ui->hidden++;
        return;
    }
    ui->shown++;
    clear_progress(ui);
    fprintf(stderr, "ntlmscope ingest: %s: %s: rejected: %s\n", source, where, why);
}

int ns_cmd_ingest(int argc, char **argv)
{
    const char *db = NULL, *format = "auto";
    char *files[MAX_FILES];
    struct ns_opt opts[] = {
        {"--db", NS_OPT_STR, &db}, {"--format", NS_OPT_STR, &format}, {NULL, NS_OPT_STR, NULL}};
    struct ns_store *st = NULL;
    struct ns_ingest in;
    struct ingest_ui ui;
    struct ns_sink sink;
    char err[512];
    int nfiles, fmt, exit_code = 0, bad_files = 0;
    double t0 = now_s();

    nfiles = ns_cli_parse("ingest", argc, argv, opts, files, MAX_FILES);
    if (nfiles < 0) {
        return 2;
    }
    if (nfiles == 0) {
        fputs("ntlmscope ingest: name at least one file (or - for standard input)\n", stderr);
        return 2;
    }
    if ((fmt = ns_format_from_name(format)) < 0) {
        fprintf(stderr,
                "ntlmscope ingest: --format is auto, xml, json, evtx or batch, not \"%s\"\n",
                format);
        return 2;
    }
    db = ns_cli_db_path(db);
    if (ns_store_open(&st, db, err, sizeof(err)) != NS_OK) {
        fprintf(stderr, "ntlmscope ingest: %s\n", err);
        return 1;
    }
    memset(&ui, 0, sizeof(ui));
    ui.tty = isatty(STDERR_FILENO);
    ui.in = &in;
    ns_ingest_init(&in, st, print_reject, &ui);
    sink = ns_ingest_sink(&in);
    /* parse on this thread, store on another: the two cores overlap (inline if it fails) */
    ns_ingest_pipeline(&in);

    for (int k = 0; k < nfiles; k++) {
        struct ns_ingest_counts before = in.n;
        int rc;
        ui.file = files[k];
        ui.shown = ui.hidden = 0;
        rc = ns_parse_path(files[k], (enum ns_format)fmt, &sink, show_progress, &ui, err,
                           sizeof(err));
        ns_ingest_drain(&in);
        clear_progress(&ui);
        if (in.db_rc != NS_OK) {
            fprintf(stderr, "ntlmscope ingest: %s: cannot store events: %s\n", files[k],
                    ns_store_errmsg(st));
            ns_store_rollback(st);
            exit_code = 1;
            break;
        }
        if (ns_store_commit(st) != NS_OK) {
            fprintf(stderr, "ntlmscope ingest: %s: cannot commit: %s\n", files[k],
                    ns_store_errmsg(st));
            exit_code = 1;
            break;
        }
        if (ui.hidden) {
            fprintf(stderr, "ntlmscope ingest: %s: %u more rejected events not shown\n", files[k],
                    ui.hidden);
        }
        if (rc == NS_EIO || (rc != NS_OK && rc != NS_EPARSE && err[0])) {
            fprintf(stderr, "ntlmscope ingest: %s\n", err[0] ? err : ns_rc_str(rc));
            bad_files++;
        } else if (rc == NS_EPARSE) {
            if (err[0]) {
                fprintf(stderr, "ntlmscope ingest: %s\n", err);
            }
            bad_files++;
        } else if (rc != NS_OK) {
            fprintf(stderr, "ntlmscope ingest: %s: %s\n", files[k], ns_rc_str(rc));
            bad_files++;
        }
        if (nfiles > 1) {
            printf("%s: %llu read, %llu stored, %llu duplicate, %llu skipped (not NTLM), "
                   "%llu rejected\n",
                   strcmp(files[k], "-") ? files[k] : "<stdin>",
                   (unsigned long long)(in.n.stored + in.n.duplicates + in.n.skipped +
                                        in.n.rejected - before.stored - before.duplicates -
                                        before.skipped - before.rejected),
                   (unsigned long long)(in.n.stored - before.stored),
                   (unsigned long long)(in.n.duplicates - before.duplicates),
                   (unsigned long long)(in.n.skipped - before.skipped),
                   (unsigned long long)(in.n.rejected - before.rejected));
        }
    }
    printf("%s%llu events read from %d file%s: %llu stored, %llu duplicate, %llu skipped "
           "(not NTLM), %llu rejected (%.2f s)\n",
           nfiles > 1 ? "total: " : "",
           (unsigned long long)(in.n.stored + in.n.duplicates + in.n.skipped + in.n.rejected),
           nfiles, nfiles == 1 ? "" : "s", (unsigned long long)in.n.stored,
           (unsigned long long)in.n.duplicates, (unsigned long long)in.n.skipped,
           (unsigned long long)in.n.rejected, now_s() - t0);
    if (bad_files) {
        fprintf(stderr,
                "ntlmscope ingest: %d file%s could not be read completely; every good "
                "event was kept\n",
                bad_files, bad_files == 1 ? "" : "s");
        exit_code = 1;
    }
    ns_ingest_end(&in);
    if (ns_store_close(st) != NS_OK) {
        fprintf(stderr, "ntlmscope ingest: %s: cannot close the database\n", db);
        exit_code = 1;
    }
    return exit_code;
}

/* ========================================================================================== */
/* report                                                                                      */
/* ========================================================================================== */

int ns_cmd_report(int argc, char **argv)
{
    const char *db = NULL, *view = NULL, *format = "table", *since = NULL, *until = NULL,
               *limit = NULL;
    char *pos[1];
    struct ns_opt opts[] = {{"--db", NS_OPT_STR, &db},         {"--view", NS_OPT_STR, &view},
                            {"--format", NS_OPT_STR, &format}, {"--since", NS_OPT_STR, &since},
                            {"--until", NS_OPT_STR, &until},   {"--limit", NS_OPT_STR, &limit},
                            {NULL, NS_OPT_STR, NULL}};
    struct ns_view_params p;
    struct ns_store *st = NULL;
    char err[512];
    int fmt, rc, npos;

    npos = ns_cli_parse("report", argc, argv, opts, pos, 1);
    if (npos < 0) {
        return 2;
    }
    if (npos == 1 && !view) {
        view = pos[0];
    } else if (npos) {
        fprintf(stderr, "ntlmscope report: unexpected argument \"%s\"\n", pos[0]);
        return 2;
    }
    if (!view) {
        fputs("ntlmscope report: --view is required: dependencies accounts processes reasons "
              "targets clients ntlmv1 hosts trend events\n",
              stderr);
        return 2;
    }
    if ((fmt = ns_report_format_from_name(format)) < 0) {
        fprintf(stderr,
                "ntlmscope report: --format is table, csv, json, html or list, not \"%s\"\n",
                format);
        return 2;
    }
    if (!strcmp(view, "inventory") && fmt != NS_REP_HTML) {
        fputs("ntlmscope report: the inventory report is --format html\n", stderr);
        return 2;
    }
    if (!ns_store_view_exists(view) && strcmp(view, "inventory")) {
        const char *const *v = ns_store_views();
        fprintf(stderr, "ntlmscope report: no view \"%s\"; views:", view);
        for (; *v; v++) {
            fprintf(stderr, " %s", *v);
        }
        fputs(" inventory\n", stderr);
        return 2;
    }
    ns_view_params_init(&p);
    if ((since && parse_day("report", "--since", since, &p.since_day)) ||
        (until && parse_day("report", "--until", until, &p.until_day)) ||
        (limit && parse_count("report", "--limit", limit, INT64_MAX, &p.limit))) {
        return 2;
    }
    if (p.since_day > p.until_day) {
        fprintf(stderr, "ntlmscope report: --since %s is after --until %s\n", since, until);
        return 2;
    }
    db = ns_cli_db_path(db);
    if (access(db, F_OK) != 0) {
        fprintf(stderr,
                "ntlmscope report: %s: no such database (run ntlmscope ingest or demo "
                "first)\n",
                db);
        return 1;
    }
    if (ns_store_open(&st, db, err, sizeof(err)) != NS_OK) {
        fprintf(stderr, "ntlmscope report: %s\n", err);
        return 1;
    }
    rc = ns_report_render(st, view, &p, (enum ns_report_format)fmt, stdout);
    if (rc != NS_OK) {
        fprintf(stderr, "ntlmscope report: %s: %s\n", view,
                rc == NS_EIO ? "cannot write the output" : ns_store_errmsg(st));
    }
    ns_store_close(st);
    return rc == NS_OK ? 0 : 1;
}

/* ========================================================================================== */
/* demo                                                                                        */
/* ========================================================================================== */

/* Feeds generated XML into the parser (the same path as ingest). */
static int demo_emit(void *ctx, const char *xml, size_t len)
{
    return ns_parser_feed(ctx, xml, len);
}

/* Writes generated XML to a file (demo --xml). */
static int demo_write(void *ctx, const char *xml, size_t len)
{
    return fwrite(xml, 1, len, ctx) == len ? NS_OK : NS_EIO;
}

/* demo --xml FILE: the simulated domain as event XML, written to a temporary file that is
 * renamed into place when complete. */
static int demo_to_xml(const struct ns_demo_config *cfg, const char *path)
{
    char tmp[4096];
    FILE *f;
    int rc;
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        fprintf(stderr, "ntlmscope demo: %s: path too long\n", path);
        return 2;
    }
    if (!(f = fopen(tmp, "wb"))) {
        fprintf(stderr, "ntlmscope demo: %s: cannot create: %s\n", tmp, strerror(errno));
        return 1;
    }
    rc = ns_demo_generate(cfg, demo_write, f);
    if (fclose(f) != 0 && rc == NS_OK) {
        rc = NS_EIO;
    }
    if (rc == NS_OK && rename(tmp, path) != 0) {
        rc = NS_EIO;
    }
    if (rc != NS_OK) {
        unlink(tmp);
        fprintf(stderr, "ntlmscope demo: %s: %s\n", path, ns_rc_str(rc));
        return 1;
    }
    printf("demo domain: %d hosts, %d days, seed %llu written to %s\n", cfg->hosts, cfg->days,
           (unsigned long long)cfg->seed, path);
    return 0;
}

int ns_cmd_demo(int argc, char **argv)
{
    const char *db = NULL, *hosts = NULL, *days = NULL, *seed = NULL, *end = NULL, *xml = NULL;
    char *pos[1];
    struct ns_opt opts[] = {{"--db", NS_OPT_STR, &db},     {"--hosts", NS_OPT_STR, &hosts},
                            {"--days", NS_OPT_STR, &days}, {"--seed", NS_OPT_STR, &seed},
                            {"--end", NS_OPT_STR, &end},   {"--xml", NS_OPT_STR, &xml},
                            {NULL, NS_OPT_STR, NULL}};
    struct ns_demo_config cfg;
    struct ns_store *st = NULL;
    struct ns_parser *parser = NULL;
    struct ns_ingest in;
    struct ingest_ui ui;
    struct ns_sink sink;
    char err[512];
    int64_t v;
    int rc, exit_code = 0;
    double t0 = now_s();

    if (ns_cli_parse("demo", argc, argv, opts, pos, 0) < 0) {
        return 2;
    }
    cfg.hosts = 60;
    cfg.days = 42;
    cfg.seed = 1;
    cfg.end_day = ns_day_of((int64_t)time(NULL) * 1000000);
    if (hosts) {
        if (parse_count("demo", "--hosts", hosts, 100000, &v)) {
            return 2;
        }
        if (v < 12) {
            fputs("ntlmscope demo: --hosts must be at least 12 (DCs, servers and clients)\n",
                  stderr);
            return 2;
        }
        cfg.hosts = (int)v;
    }
    if (days) {
        if (parse_count("demo", "--days", days, 3650, &v)) {
            return 2;
        }
        if (v < 1) {
            fputs("ntlmscope demo: --days must be at least 1\n", stderr);
            return 2;
        }
        cfg.days = (int)v;
    }
    if (seed) {
        if (parse_count("demo", "--seed", seed, INT64_MAX, &v)) {
            return 2;
        }
        cfg.seed = (uint64_t)v;
    }
    if (end && parse_day("demo", "--end", end, &cfg.end_day)) {
        return 2;
    }
    if (xml) {
        return demo_to_xml(&cfg, xml);
    }
    db = ns_cli_db_path(db);
    if (ns_store_open(&st, db, err, sizeof(err)) != NS_OK) {
        fprintf(stderr, "ntlmscope demo: %s\n", err);
        return 1;
    }
    memset(&ui, 0, sizeof(ui));
    ui.in = &in;
    ns_ingest_init(&in, st, print_reject, &ui);
    sink = ns_ingest_sink(&in);
    if ((rc = ns_parser_new(&parser, NS_FMT_XML, "demo", &sink)) == NS_OK) {
        rc = ns_demo_generate(&cfg, demo_emit, parser);
        if (rc == NS_OK) {
            rc = ns_parser_finish(parser);
        }
    }
    ns_parser_free(parser);
    if (rc == NS_OK && in.db_rc == NS_OK) {
        rc = ns_store_commit(st);
    } else {
        ns_store_rollback(st);
    }
    if (rc != NS_OK || in.db_rc != NS_OK || in.n.rejected) {
        fprintf(stderr, "ntlmscope demo: %s\n",
                in.db_rc != NS_OK || rc == NS_EDB ? ns_store_errmsg(st) : ns_rc_str(rc));
        exit_code = 1;
    }
    printf("demo domain: %d hosts, %d days, seed %llu: %llu events stored, %llu duplicate in "
           "%s (%.2f s)\n",
           cfg.hosts, cfg.days, (unsigned long long)cfg.seed, (unsigned long long)in.n.stored,
           (unsigned long long)in.n.duplicates, db, now_s() - t0);
    if (ns_store_close(st) != NS_OK) {
        exit_code = 1;
    }
    return exit_code;
}
