/*
 * ns_server.h - `ntlmscope serve`: the HTTP(S) server (libmicrohttpd). Agents POST event
 * batches to /api/v1/events with a bearer token; each batch is one transaction and is
 * answered only once committed. Views, health and metrics are served read-only.
 */
#ifndef NS_SERVER_H
#define NS_SERVER_H

#include <stddef.h>

#include "ns_summary.h"

/* Everything `serve` can be told, by flag or config file. */
struct ns_server_config {
    const char *db;              /* database path */
    const char *listen;          /* HOST:PORT ("127.0.0.1:8080"); port 0 picks a free one */
    const char *tls_cert;        /* PEM certificate file, or NULL for plain HTTP */
    const char *tls_key;         /* PEM key file */
    int insecure_http;           /* allow plain HTTP on a non-loopback address */
    size_t max_body;             /* request body bytes (compressed) */
    size_t max_inflated;         /* body bytes after gzip */
    unsigned max_connections;    /* connections at once */
    unsigned per_ip_connections; /* connections at once from one address */
    unsigned timeout;            /* idle connection timeout, seconds */
    unsigned max_inflight;       /* ingest requests processed at once; more get 503 */
    unsigned rate_per_ip;        /* requests per second per address; more get 429 (0: off) */
    unsigned lock_wait;          /* seconds a batch waits for the writer before 503 */
    const char *port_file;       /* write the bound port here once listening (tests) */    int summary_on;                /* send the weekly summary on schedule */
    struct ns_schedule summary_at; /* when (local time) */
    struct ns_mail mail;           /* SMTP server, sender, recipients */
};

/* Fills the defaults. */
void ns_server_config_init(struct ns_server_config *c);

/*
 * Runs the server until SIGTERM or SIGINT, then finishes the batches in flight and returns.
 * Returns 0 on a clean stop, 1 when the server could not start (the reason is on stderr).
 */
int ns_server_run(const struct ns_server_config *c);

#endif
