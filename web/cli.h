/*
 * cli.h - the ntlmscope subcommands. Each returns the process exit code: 0 success,
 * 1 failure (something could not be read, parsed or stored), 2 usage error.
 */
#ifndef NS_CLI_H
#define NS_CLI_H

#include <stdint.h>

#include "ns_store.h"

int ns_cmd_ingest(int argc, char **argv);
int ns_cmd_report(int argc, char **argv);
int ns_cmd_demo(int argc, char **argv);
int ns_cmd_serve(int argc, char **argv);
int ns_cmd_token(int argc, char **argv);
int ns_cmd_ship(int argc, char **argv);
int ns_cmd_summary(int argc, char **argv);

/* The database path: --db, else $NTLMSCOPE_DB, else ./ntlmscope.db. */
const char *ns_cli_db_path(const char *opt);

/* Options of one subcommand, declared as a table. */
enum ns_opt_kind {
    NS_OPT_STR,  /* --name VALUE: sets a const char * */
    NS_OPT_FLAG, /* --name: sets an int to 1 */
    NS_OPT_MULTI /* --name VALUE, repeatable, commas split: appends to a struct ns_multi */
};

/* Values of a repeatable option. */
struct ns_multi {
    const char *v[64]; /* the values (pointing into argv or a config value) */
    int n;             /* how many */
};

/* Appends the comma-separated values of s (modified in place). Returns 0, -1 when full. */
int ns_multi_add(struct ns_multi *m, char *s);

struct ns_opt {
    const char *name;      /* "--db" */
    enum ns_opt_kind kind; /* what it takes */
    void *target;          /* const char ** or int * */
};

/*
 * Parses argv[1..] against the table; arguments that are not options (and "-") are
 * collected into positional[] (at most maxpos). Returns the number of positionals, or -1
 * after printing the error on stderr.
 */
int ns_cli_parse(const char *cmd, int argc, char **argv, const struct ns_opt *opts,
                 char **positional, int maxpos);

struct config_values;
/* Reads an INI-style config file (key = value; # and ; comments; [sections] ignored) into
 * the options whose flag is --key and that the command line left unset. Returns 0, or -1
 * after printing the file, line and problem on stderr. */
int ns_cli_config(const char *cmd, const char *path, const struct ns_opt *opts,
                  struct config_values *cv);

/* Generates a simulated domain's events as event XML and hands them to a callback. */
struct ns_demo_config {
    int hosts;       /* machines in the domain */
    int days;        /* days of history */
    uint64_t seed;   /* generator seed */
    int64_t end_day; /* last day (days since 1970) */
};
/* Calls emit(ctx, xml, len) with chunks of event XML. Returns NS_OK or emit's code. */
int ns_demo_generate(const struct ns_demo_config *cfg,
                     int (*emit)(void *ctx, const char *xml, size_t len), void *ctx);

#endif
