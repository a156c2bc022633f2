/*
 * ns_summary.h - documents built from several views: the inventory report (one self-contained
 * HTML file) and the weekly summary (text, HTML, a MIME message), its delivery over SMTP and
 * its weekly schedule.
 */
#ifndef NS_SUMMARY_H
#define NS_SUMMARY_H

#include <stdio.h>
#include <time.h>

#include "ns_store.h"

/* ------------------------------------------------------------------------------------------ */
/* A view's rows in memory                                                                     */
/* ------------------------------------------------------------------------------------------ */

struct ns_table {
    int ncol;     /* columns */
    char **names; /* column names */
    int *numeric; /* 1 for integer columns */
    size_t nrows; /* rows */
    char **cells; /* nrows * ncol texts, NULL for an absent value */
};

/* Runs a view into t (times as ISO 8601 UTC, days as YYYY-MM-DD). Returns NS_OK or the
 * store's error. Free with ns_table_free(). */
int ns_table_load(struct ns_store *st, const char *view, const struct ns_view_params *p,
                  struct ns_table *t);
void ns_table_free(struct ns_table *t);
/* The text of a cell by column name, or NULL (absent value or no such column). */
const char *ns_table_get(const struct ns_table *t, size_t row, const char *col);
/* The integer of a cell, 0 when absent. */
int64_t ns_table_int(const struct ns_table *t, size_t row, const char *col);

/* ------------------------------------------------------------------------------------------ */
/* SVG charts (inline, self-contained)                                                         */
/* ------------------------------------------------------------------------------------------ */

/* A line chart: x is the `day` column, one polyline (and one circle per day) per series.
 * Days without a row count as zero. Returns NS_OK or NS_EIO. */
int ns_svg_lines(FILE *out, const struct ns_table *t, const char *const *series,
                 const char *const *labels, const char *title);
/* Horizontal bars: label column and value column. */
int ns_svg_bars(FILE *out, const struct ns_table *t, const char *label_col, const char *value_col,
                const char *title);

/* The full inventory report as one HTML file (no script, no external reference): totals,
 * the trend, reasons with remediation, dependencies, NTLMv1, readiness with its burn-down,
 * and the enforcement exception lists. Returns NS_OK, NS_EDB or NS_EIO. */
int ns_inventory_html(struct ns_store *st, const struct ns_view_params *p, FILE *out);

/* ------------------------------------------------------------------------------------------ */
/* The weekly summary                                                                          */
/* ------------------------------------------------------------------------------------------ */

struct ns_summary {
    int64_t week_ending;                          /* last day of the week (day number) */
    struct ns_table now, before;                  /* totals this week and the week before */
    struct ns_table new_deps;                     /* dependencies first seen this week */
    struct ns_table retired;                      /* seen the week before, not this week */
    struct ns_table accounts, processes, targets; /* top 10 this week */
    struct ns_table reasons;                      /* this week, with remediation */
    struct ns_table quiet;                        /* targets that became safe to block */
    struct ns_table silent;                       /* reporting hosts that went silent */
};

/* Builds the summary of the 7 days ending on week_ending. Returns NS_OK or the store's
 * error; free with ns_summary_free(). */
int ns_summary_build(struct ns_store *st, int64_t week_ending, struct ns_summary *s);
void ns_summary_free(struct ns_summary *s);
/* The subject line (UTF-8). */
void ns_summary_subject(const struct ns_summary *s, char *out, size_t n);
int ns_summary_text(const struct ns_summary *s, FILE *out);
int ns_summary_html(const struct ns_summary *s, FILE *out);
/* The most recent Sunday before day (the default week to report). */
int64_t ns_last_week_ending(int64_t today);

/* ------------------------------------------------------------------------------------------ */
/* Mail                                                                                        */
/* ------------------------------------------------------------------------------------------ */

#define NS_MAIL_MAX_RCPT 64

/* Where and how the summary goes. */
struct ns_mail {
    const char *smtp_url;             /* smtp://host:port (STARTTLS) or smtps://host:port */
    const char *tls;                  /* "required" (default), "try", "none" for smtp:// */
    const char *login_file;           /* "user:password" or user and password on two lines */
    const char *ca_file;              /* CA bundle for the server's certificate, or NULL */
    const char *from;                 /* sender address */
    const char *to[NS_MAIL_MAX_RCPT]; /* recipients */
    int nto;                          /* how many */
};

/* Checks an address: no CR, LF, spaces, angle brackets or commas, one '@'. Returns 1 if
 * usable in a header and an SMTP envelope. */
int ns_mail_address_ok(const char *addr);
/* Builds a multipart/alternative message (text and HTML, base64, UTF-8; RFC 2047 subject;
 * Date and Message-ID). Refuses (NS_EINVAL, err says why) any header value containing CR or
 * LF and any unusable address. */
int ns_mail_build(const struct ns_mail *m, const char *subject, const char *text, const char *html,
                  time_t now, struct ns_buf *out, char *err, size_t errlen);
/* Sends a built message over SMTP with libcurl. Returns NS_OK or NS_EIO (err says why). */
int ns_mail_send(const struct ns_mail *m, const struct ns_buf *msg, char *err, size_t errlen);
/* Builds the summary of week_ending as text, HTML and a message, sends it, and records it
 * with ns_summary_mark_sent() in writer (NULL: not recorded). */
int ns_summary_send(struct ns_store *reader, struct ns_store *writer, int64_t week_ending,
                    const struct ns_mail *m, char *err, size_t errlen);

/* ------------------------------------------------------------------------------------------ */
/* The weekly schedule                                                                         */
/* ------------------------------------------------------------------------------------------ */

struct ns_schedule {
    int weekday; /* 0 Sunday .. 6 Saturday (struct tm) */
    int hour;    /* 0-23, local time */
    int minute;  /* 0-59 */
};

/* Parses "Mon 07:00" (English day, three letters or full). Returns NS_OK or NS_EPARSE. */
int ns_schedule_parse(const char *s, struct ns_schedule *out);
/* The week due at time now: the day number (UTC calendar date of the local day) before the
 * most recent scheduled moment at or before now; e.g. Monday 07:00 reports the week ending
 * on the Sunday before. localtime_r decides the local time. */
int64_t ns_schedule_due(const struct ns_schedule *s, time_t now);

#endif
