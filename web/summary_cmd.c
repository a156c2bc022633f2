/*
 * summary_cmd.c - `ntlmscope summary`: the weekly summary as text, HTML or a MIME message,
 * or sent over SMTP (and recorded, so a scheduled server does not send it again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ns_summary.h"

int ns_cmd_summary(int argc, char **argv)
{
    const char *db = NULL, *week = NULL, *format = "text", *smtp = NULL, *from = NULL,
               *login = NULL, *tls = NULL, *ca = NULL;
    int send = 0, exit_code = 0, rc;
    struct ns_multi to = {{0}, 0};
    char *pos[1], err[512];
    struct ns_opt opts[] = {
        {"--db", NS_OPT_STR, &db},         {"--week-ending", NS_OPT_STR, &week},
        {"--format", NS_OPT_STR, &format}, {"--send", NS_OPT_FLAG, &send},
        {"--smtp", NS_OPT_STR, &smtp},     {"--from", NS_OPT_STR, &from},
        {"--to", NS_OPT_MULTI, &to},       {"--smtp-login-file", NS_OPT_STR, &login},
        {"--smtp-tls", NS_OPT_STR, &tls},  {"--smtp-ca-file", NS_OPT_STR, &ca},
        {NULL, NS_OPT_STR, NULL}};
    struct ns_store *st = NULL, *writer = NULL;
    struct ns_summary s;
    struct ns_mail m;
    int64_t week_ending;
    if (ns_cli_parse("summary", argc, argv, opts, pos, 0) < 0) {
        return 2;
    }
    if (strcmp(format, "text") && strcmp(format, "html") && strcmp(format, "eml")) {
        fprintf(stderr, "ntlmscope summary: --format is text, html or eml, not \"%s\"\n", format);
        return 2;
    }
    if (tls && strcmp(tls, "required") && strcmp(tls, "try") && strcmp(tls, "none")) {
        fputs("ntlmscope summary: --smtp-tls is required, try or none\n", stderr);
        return 2;
    }
    if (week) {
        if (ns_parse_date(week, &week_ending) != NS_OK) {
            fprintf(stderr, "ntlmscope summary: --week-ending wants YYYY-MM-DD, not \"%s\"\n",
                    week);
            return 2;
        }
    } else {
        week_ending = ns_last_week_ending((int64_t)time(NULL) / 86400);
    }
    memset(&m, 0, sizeof(m));
    m.smtp_url = smtp;
    m.from = from;
    m.login_file = login;
    m.tls = tls;
    m.ca_file = ca;
    for (int k = 0; k < to.n && k < NS_MAIL_MAX_RCPT; k++) {
        m.to[m.nto++] = to.v[k];
    }
    if ((send || !strcmp(format, "eml")) && (!from || !m.nto)) {
        fputs("ntlmscope summary: a message needs --from and at least one --to\n", stderr);
        return 2;
    }
    if (send && !smtp) {
        fputs("ntlmscope summary: --send needs --smtp smtp://HOST:PORT (or smtps://)\n", stderr);
        return 2;
    }
    db = ns_cli_db_path(db);
    if (access(db, F_OK) != 0) {
        fprintf(stderr, "ntlmscope summary: %s: no such database\n", db);
        return 1;
    }
    if (send) {
        if (ns_store_open(&writer, db, err, sizeof(err)) != NS_OK ||
            ns_store_open_readonly(&st, db, err, sizeof(err)) != NS_OK) {
            fprintf(stderr, "ntlmscope summary: %s\n", err);
            ns_store_close(writer);
            return 1;
        }
        rc = ns_summary_send(st, writer, week_ending, &m, err, sizeof(err));
        if (rc != NS_OK) {
            fprintf(stderr, "ntlmscope summary: %s\n", err);
            exit_code = rc == NS_EINVAL ? 2 : 1;
        } else {
            char day[16];
            ns_format_date(week_ending, day);
            fprintf(stderr, "ntlmscope summary: week ending %s sent to %d recipient%s\n", day,
                    m.nto, m.nto == 1 ? "" : "s");
        }
        ns_store_close(st);
        ns_store_close(writer);
        return exit_code;
    }
    if (ns_store_open(&st, db, err, sizeof(err)) != NS_OK) {
        fprintf(stderr, "ntlmscope summary: %s\n", err);
        return 1;
    }
    if (ns_summary_build(st, week_ending, &s) != NS_OK) {
        fprintf(stderr, "ntlmscope summary: %s\n", ns_store_errmsg(st));
        ns_store_close(st);
        return 1;
    }
    if (!strcmp(format, "text")) {
        rc = ns_summary_text(&s, stdout);
    } else if (!strcmp(format, "html")) {
        rc = ns_summary_html(&s, stdout);
    } else {
        char subject[256], *text = NULL, *html = NULL;
        size_t tl = 0, hl = 0;
        FILE *tf = open_memstream(&text, &tl), *hf = open_memstream(&html, &hl);
        struct ns_buf msg;
        ns_buf_init(&msg, 64u << 20);
        rc = tf && hf ? NS_OK : NS_ENOMEM;
        if (rc == NS_OK) {
            rc = ns_summary_text(&s, tf);
        }
        if (rc == NS_OK) {
            rc = ns_summary_html(&s, hf);
        }
        if (tf) {
            fclose(tf);
        }
        if (hf) {
            fclose(hf);
        }
        ns_summary_subject(&s, subject, sizeof(subject));
        if (rc == NS_OK) {
            rc = ns_mail_build(&m, subject, text, html, time(NULL), &msg, err, sizeof(err));
            if (rc != NS_OK) {
                fprintf(stderr, "ntlmscope summary: %s\n", err);
            } else if (fwrite(msg.data, 1, msg.len, stdout) != msg.len) {
                rc = NS_EIO;
            }
        }
        free(text);
        free(html);
        ns_buf_free(&msg);
        if (rc == NS_EINVAL) {
            exit_code = 2;
        }
    }
    if (rc != NS_OK && !exit_code) {
        fprintf(stderr, "ntlmscope summary: %s\n", ns_rc_str(rc));
        exit_code = 1;
    }
    if (fflush(stdout) != 0) {
        exit_code = 1;
    }
    ns_summary_free(&s);
    ns_store_close(st);
    return exit_code;
}
