/*
 * main.c - the ntlmscope binary: dispatches subcommands. Only main() exits.
 */
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

#include "cli.h"

/* The subcommands. */
static const struct {
    const char *name;                  /* argv[1] */
    int (*run)(int argc, char **argv); /* its implementation */
    const char *usage;                 /* one line of help */
} commands[] = {
    {"ingest", ns_cmd_ingest,
     "ingest  [--db FILE] [--format auto|xml|json|evtx|batch] FILE|- ...   read event files"},
    {"report", ns_cmd_report,
     "report  [--db FILE] --view VIEW [--format table|csv|json|html|list]\n"
     "        [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--limit N]   show a view\n"
     "        (--view inventory --format html: the full inventory report)"},
    {"summary", ns_cmd_summary,
     "summary [--db FILE] [--week-ending YYYY-MM-DD] [--format text|html|eml]\n"
     "        [--send --smtp URL --from ADDR --to ADDR ... [--smtp-login-file F]\n"
     "        [--smtp-tls required|try|none] [--smtp-ca-file F]]   the weekly summary"},
    {"serve", ns_cmd_serve,
     "serve   [--db FILE] [--listen HOST:PORT] [--config FILE] [--tls-cert F --tls-key F]\n"
     "        [--insecure-http] [--max-body 32M] [--max-connections N] [--per-ip-connections N]\n"
     "        [--timeout S] [--max-inflight N] [--rate-per-ip N]   the central server"},
    {"ship", ns_cmd_ship,
     "ship    --server URL --token-file FILE [--spool DIR] [--ca-file F] FILE... | --watch DIR\n"
     "        send events to the server"},
    {"token", ns_cmd_token, "token   add NAME | list | revoke NAME [--db FILE]   agent tokens"},
    {"demo", ns_cmd_demo,
     "demo    [--db FILE] [--hosts N] [--days N] [--seed N] [--end YYYY-MM-DD] [--xml FILE]\n"
     "        fill a database with a simulated domain (or write it as event XML)"},
};

static void usage(FILE *out)
{
    fputs("usage: ntlmscope COMMAND [OPTIONS]\n\n", out);
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
        fprintf(out, "  %s\n", commands[k].usage);
    }
    fputs("\nThe database is --db, else $NTLMSCOPE_DB, else ./ntlmscope.db.\n"
          "Views: dependencies accounts processes reasons targets clients ntlmv1 hosts trend\n"
          "       events readiness burndown totals remote_server_exceptions\n"
          "       domain_server_exceptions ntlmv1_blockers new_dependencies retired_dependencies\n"
          "       quiet_targets silent_hosts\n",
          out);
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        puts("ntlmscope 0.1.0");
        return 0;
    }
    xmlInitParser();
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
        if (!strcmp(argv[1], commands[k].name)) {
            rc = commands[k].run(argc - 1, argv + 1);
            xmlCleanupParser();
            return rc;
        }
    }
    fprintf(stderr, "ntlmscope: unknown command \"%s\"\n\n", argv[1]);
    usage(stderr);
    xmlCleanupParser();
    return 2;
}
