/*
 * ns_report.h - renders a view as a text table, CSV, JSON or HTML, escaping what it must:
 * HTML is escaped everywhere, CSV cells that a spreadsheet would run as a formula are
 * neutralised, JSON is valid UTF-8-safe JSON with ISO 8601 UTC times.
 */
#ifndef NS_REPORT_H
#define NS_REPORT_H

#include <stdio.h>

#include "ns_store.h"

enum ns_report_format {
    NS_REP_TABLE, /* aligned text for a terminal */
    NS_REP_CSV,   /* RFC 4180, formula cells neutralised */
    NS_REP_JSON,  /* an array of objects with the view's keys */
    NS_REP_HTML,  /* a self-contained page (inline CSS and SVG, no script) */
    NS_REP_LIST   /* the first column, each value once per line (exception lists) */
};

/* Returns the format named by s ("table", "csv", "json", "html", "list") or -1. */
int ns_report_format_from_name(const char *s);

/*
 * Runs view and writes it to out in the given format. Returns NS_OK, NS_ENOTFOUND for an
 * unknown view, NS_EDB, or NS_EIO when writing failed.
 */
int ns_report_render(struct ns_store *st, const char *view, const struct ns_view_params *p,
                     enum ns_report_format fmt, FILE *out);

/* ------------------------------------------------------------------------------------------ */
/* Escaping, for every module that writes these formats                                        */
/* ------------------------------------------------------------------------------------------ */

/* Writes s HTML-escaped (& < > " ' ). Returns NS_OK or NS_EIO. */
int ns_html_escape(FILE *out, const char *s);
/* Writes s as one CSV cell: quoted when needed, and prefixed with ' when it starts with
 * = + - @ (or a tab or CR), which spreadsheets would run as a formula. */
int ns_csv_cell(FILE *out, const char *s);
/* Writes s as a JSON string literal with quotes. Invalid UTF-8 bytes become U+FFFD. */
int ns_json_string(FILE *out, const char *s);

struct ns_table;
/* Starts a self-contained HTML page (meta CSP, inline style) titled title. */
int ns_html_begin(FILE *out, const char *title);
/* Writes a table of rows, every cell escaped. */
int ns_html_table(FILE *out, const struct ns_table *t);

#endif
