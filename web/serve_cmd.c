/*
 * serve_cmd.c - the `serve` and `token` subcommands, and the INI config file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "ns_server.h"

/* ========================================================================================== */
/* Config file                                                                                 */
/* ========================================================================================== */

/* Values read from a config file, kept until the command ends. */
struct config_values {
    char *values[64]; /* strdup'ed values */
    int n;            /* used */
};

static void config_values_free(struct config_values *cv)
{
    for (int k = 0; k < cv->n; k++) {
        free(cv->values[k]);
    }
    cv->n = 0;
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s)) {
        s++;
    }
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) {
        *--e = '\0';
    }
    return s;
}

int ns_cli_config(const char *cmd, const char *path, const struct ns_opt *opts,
                  struct config_values *cv)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int lineno = 0;
    if (!f) {
        fprintf(stderr, "ntlmscope %s: %s: cannot open: %s\n", cmd, path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *p = trim(line), *eq, *key, *val, flag[80];
        const struct ns_opt *o = NULL;
        lineno++;
        if (!*p || *p == '#' || *p == ';' || *p == '[') {
            continue;
        }
        if (!(eq = strchr(p, '='))) {
            fprintf(stderr, "ntlmscope %s: %s:%d: expected key = value\n", cmd, path, lineno);
            fclose(f);
            return -1;
        }
        *eq = '\0';
        key = trim(p);
        val = trim(eq + 1);
        if (strlen(val) >= 2 && (val[0] == '"' || val[0] == '\'') &&
            val[strlen(val) - 1] == val[0]) {
            val[strlen(val) - 1] = '\0';
            val++;
        }
        snprintf(flag, sizeof(flag), "--%s", key);
        for (char *c = flag; *c; c++) {
            *c = *c == '_' ? '-' : *c;
        }
        for (const struct ns_opt *k = opts; k->name; k++) {
            if (!strcmp(k->name, flag) && strcmp(k->name, "--config")) {
                o = k;
            }
        }
        if (!o) {
            fprintf(stderr, "ntlmscope %s: %s:%d: unknown setting \"%s\"\n", cmd, path, lineno,
                    key);
            fclose(f);
            return -1;
        }
        if (o->kind == NS_OPT_MULTI) {
            struct ns_multi *m = o->target;
            char *copy;
            if (m->n) {
                continue; /* the command line wins */
            }
            if (cv->n >= (int)(sizeof(cv->values) / sizeof(cv->values[0])) ||
                !(copy = strdup(val))) {
                fprintf(stderr, "ntlmscope %s: %s: too many settings\n", cmd, path);
                fclose(f);
                return -1;
            }
            cv->values[cv->n++] = copy;
            if (ns_multi_add(m, copy) != 0) {
                fprintf(stderr, "ntlmscope %s: %s:%d: too many values\n", cmd, path, lineno);
                fclose(f);
                return -1;
            }
            continue;
        }
        if (o->kind == NS_OPT_FLAG) {
            int on = !strcasecmp(val, "true") || !strcasecmp(val, "yes") || !strcmp(val, "1");
            if (!on && strcasecmp(val, "false") && strcasecmp(val, "no") && strcmp(val, "0")) {
                fprintf(stderr, "ntlmscope %s: %s:%d: %s is true or false\n", cmd, path, lineno,
                        key);
                fclose(f);
                return -1;
            }
            if (!*(int *)o->target) {
                *(int *)o->target = on;
            }
            continue;
        }
        if (*(const char **)o->target) {
            continue; /* the command line wins */
        }
        if (cv->n >= (int)(sizeof(cv->values) / sizeof(cv->values[0])) ||
            !(cv->values[cv->n] = strdup(val))) {
            fprintf(stderr, "ntlmscope %s: %s: too many settings\n", cmd, path);
            fclose(f);
            return -1;
        }
        *(const char **)o->target = cv->values[cv->n++];
    }
    fclose(f);
    return 0;
}

/* Parses a size: a number with an optional K, M or G suffix (powers of 1024). */
static int parse_size(const char *opt, const char *s, size_t *out)
{
    char num[32];
    size_t n = strlen(s), mul = 1;
    int64_t v;
    if (n && n < sizeof(num)) {
        char last = (char)toupper((unsigned char)s[n - 1]);
        mul = last == 'K' ? 1024u : last == 'M' ? 1u << 20 : last == 'G' ? 1u << 30 : 1;
        memcpy(num, s, n);
        num[mul > 1 ? n - 1 : n] = '\0';
        if (ns_parse_int(num, &v) == NS_OK && v > 0 && (uint64_t)v <= SIZE_MAX / mul) {
            *out = (size_t)v * mul;
            return 0;
        }
    }
    fprintf(stderr, "ntlmscope serve: %s wants a size such as 32M, not \"%s\"\n", opt, s);
    return -1;
}

static int parse_uint(const char *opt, const char *s, unsigned max, unsigned *out)
{
    int64_t v;
    if (ns_parse_int(s, &v) != NS_OK || v < 0 || v > max) {
        fprintf(stderr, "ntlmscope serve: %s wants a whole number from 0 to %u, not \"%s\"\n", opt,
                max, s);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

/* ========================================================================================== */
/* serve                                                                                       */
/* ========================================================================================== */

int ns_cmd_serve(int argc, char **argv)
{
    const char *db = NULL, *listen = NULL, *config = NULL, *cert = NULL, *key = NULL,
               *max_body = NULL, *max_inflated = NULL, *max_conn = NULL, *per_ip = NULL,
               *timeout = NULL, *inflight = NULL, *rate = NULL, *lock_wait = NULL,
               *port_file = NULL, *summary_at = NULL, *summary_from = NULL, *smtp = NULL,
               *smtp_login = NULL, *smtp_tls = NULL, *smtp_ca = NULL;
    struct ns_multi summary_to = {{0}, 0};
    int insecure = 0, rc;
    char *pos[1];
    struct ns_opt opts[] = {{"--db", NS_OPT_STR, &db},
                            {"--listen", NS_OPT_STR, &listen},
                            {"--config", NS_OPT_STR, &config},
                            {"--tls-cert", NS_OPT_STR, &cert},
                            {"--tls-key", NS_OPT_STR, &key},
                            {"--insecure-http", NS_OPT_FLAG, &insecure},
                            {"--max-body", NS_OPT_STR, &max_body},
                            {"--max-inflated", NS_OPT_STR, &max_inflated},
                            {"--max-connections", NS_OPT_STR, &max_conn},
                            {"--per-ip-connections", NS_OPT_STR, &per_ip},
                            {"--timeout", NS_OPT_STR, &timeout},
                            {"--max-inflight", NS_OPT_STR, &inflight},
                            {"--rate-per-ip", NS_OPT_STR, &rate},
                            {"--lock-wait", NS_OPT_STR, &lock_wait},
                            {"--port-file", NS_OPT_STR, &port_file},
                            {"--summary-at", NS_OPT_STR, &summary_at},
                            {"--summary-from", NS_OPT_STR, &summary_from},
                            {"--summary-to", NS_OPT_MULTI, &summary_to},
                            {"--smtp", NS_OPT_STR, &smtp},
                            {"--smtp-login-file", NS_OPT_STR, &smtp_login},
                            {"--smtp-tls", NS_OPT_STR, &smtp_tls},
                            {"--smtp-ca-file", NS_OPT_STR, &smtp_ca},
                            {NULL, NS_OPT_STR, NULL}};
    struct ns_server_config c;
    struct config_values cv = {{0}, 0};

    if (ns_cli_parse("serve", argc, argv, opts, pos, 0) < 0) {
        return 2;
    }
    if (config && ns_cli_config("serve", config, opts, &cv) != 0) {
        config_values_free(&cv);
        return 2;
    }
    ns_server_config_init(&c);
    c.db = ns_cli_db_path(db);
    c.listen = listen ? listen : c.listen;
    c.tls_cert = cert;
    c.tls_key = key;
    c.insecure_http = insecure;
    c.port_file = port_file;
    if ((max_body && parse_size("--max-body", max_body, &c.max_body)) ||
        (max_inflated && parse_size("--max-inflated", max_inflated, &c.max_inflated)) ||
        (max_conn && parse_uint("--max-connections", max_conn, 100000, &c.max_connections)) ||
        (per_ip && parse_uint("--per-ip-connections", per_ip, 100000, &c.per_ip_connections)) ||
        (timeout && parse_uint("--timeout", timeout, 86400, &c.timeout)) ||
        (inflight && parse_uint("--max-inflight", inflight, 10000, &c.max_inflight)) ||
        (rate && parse_uint("--rate-per-ip", rate, 1000000, &c.rate_per_ip)) ||
        (lock_wait && parse_uint("--lock-wait", lock_wait, 3600, &c.lock_wait))) {
        config_values_free(&cv);
        return 2;
    }
    if (summary_at || summary_to.n || summary_from || smtp) {
        if (!summary_at || !summary_to.n || !summary_from || !smtp) {
            fputs("ntlmscope serve: the weekly summary needs summary_at, summary_from, summary_to "
                  "and smtp\n",
                  stderr);
            config_values_free(&cv);
            return 2;
        }
        if (ns_schedule_parse(summary_at, &c.summary_at) != NS_OK) {
            fprintf(stderr, "ntlmscope serve: summary_at is like \"Mon 07:00\", not \"%s\"\n",
                    summary_at);
            config_values_free(&cv);
            return 2;
        }
        if (smtp_tls && strcmp(smtp_tls, "required") && strcmp(smtp_tls, "try") &&
            strcmp(smtp_tls, "none")) {
            fputs("ntlmscope serve: smtp_tls is required, try or none\n", stderr);
            config_values_free(&cv);
            return 2;
        }
        c.summary_on = 1;
        c.mail.smtp_url = smtp;
        c.mail.from = summary_from;
        c.mail.login_file = smtp_login;
        c.mail.tls = smtp_tls;
        c.mail.ca_file = smtp_ca;
        for (int k = 0; k < summary_to.n && k < NS_MAIL_MAX_RCPT; k++) {
            if (!ns_mail_address_ok(summary_to.v[k])) {
                fprintf(stderr, "ntlmscope serve: summary_to: \"%s\" is not a usable address\n",
                        summary_to.v[k]);
                config_values_free(&cv);
                return 2;
            }
            c.mail.to[c.mail.nto++] = summary_to.v[k];
        }
        if (!ns_mail_address_ok(summary_from)) {
            fputs("ntlmscope serve: summary_from is not a usable address\n", stderr);
            config_values_free(&cv);
            return 2;
        }
    }
    rc = ns_server_run(&c);
    config_values_free(&cv);
    return rc;
}

/* ========================================================================================== */
/* token                                                                                       */
/* ========================================================================================== */

static void fmt_time(int64_t us, char out[32])
{
    if (!us) {
        snprintf(out, 32, "-");
        return;
    }
    ns_format_time(us, out);
    out[19] = 'Z';
    out[20] = '\0';
}

static int print_token(void *ctx, const struct ns_agent_info *a)
{
    char created[32], last[32], revoked[32];
    (void)ctx;
    fmt_time(a->created, created);
    fmt_time(a->last_seen, last);
    fmt_time(a->revoked, revoked);
    printf("%-24s %-8s created %s  last batch %s  from %s  batches %lld  events %lld%s%s\n",
           a->name, a->revoked ? "REVOKED" : "valid", created, last,
           a->last_address ? a->last_address : "-", (long long)a->batches, (long long)a->events,
           a->revoked ? "  revoked " : "", a->revoked ? revoked : "");
    return NS_OK;
}

int ns_cmd_token(int argc, char **argv)
{
    const char *db = NULL;
    char *pos[3], err[512], token[2 * NS_TOKEN_BYTES + 1];
    struct ns_opt opts[] = {{"--db", NS_OPT_STR, &db}, {NULL, NS_OPT_STR, NULL}};
    struct ns_store *st = NULL;
    int n = ns_cli_parse("token", argc, argv, opts, pos, 3), rc, exit_code = 0;
    if (n < 0) {
        return 2;
    }
    if (n == 0 || (!strcmp(pos[0], "list")                                 ? n != 1
                   : (!strcmp(pos[0], "add") || !strcmp(pos[0], "revoke")) ? n != 2
                                                                           : 1)) {
        fputs("usage: ntlmscope token add NAME | list | revoke NAME [--db FILE]\n", stderr);
        return 2;
    }
    db = ns_cli_db_path(db);
    if (ns_store_open(&st, db, err, sizeof(err)) != NS_OK) {
        fprintf(stderr, "ntlmscope token: %s\n", err);
        return 1;
    }
    if (!strcmp(pos[0], "add")) {
        rc = ns_token_add(st, pos[1], token, err, sizeof(err));
        if (rc == NS_OK) {
            puts(token); /* shown once: only its hash is kept */
            fprintf(stderr, "ntlmscope token: token for \"%s\" created; it is shown only once\n",
                    pos[1]);
        } else {
            fprintf(stderr, "ntlmscope token: %s\n", err);
            exit_code = rc == NS_EINVAL ? 2 : 1;
        }
        memset(token, 0, sizeof(token));
    } else if (!strcmp(pos[0], "revoke")) {
        rc = ns_token_revoke(st, pos[1]);
        if (rc == NS_OK) {
            fprintf(stderr, "ntlmscope token: \"%s\" revoked; its agent is refused from now on\n",
                    pos[1]);
        } else {
            fprintf(stderr, "ntlmscope token: %s\n",
                    rc == NS_ENOTFOUND ? "no valid token of that name" : ns_store_errmsg(st));
            exit_code = 1;
        }
    } else if (ns_token_list(st, print_token, NULL) != NS_OK) {
        fprintf(stderr, "ntlmscope token: %s\n", ns_store_errmsg(st));
        exit_code = 1;
    }
    if (ns_store_close(st) != NS_OK) {
        exit_code = 1;
    }
    return exit_code;
}
