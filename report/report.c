/*
 * report.c - view renderers: table, CSV, JSON, HTML.
 */
#include "ns_report.h"
#include "ns_summary.h"

#include <strings.h>

#include <stdlib.h>
#include <string.h>

static const char *const format_names[] = {"table", "csv", "json", "html", "list", NULL};

int ns_report_format_from_name(const char *s)
{
    for (int k = 0; format_names[k]; k++) {
        if (!strcmp(format_names[k], s)) {
            return k;
        }
    }
    return -1;
}

/* ========================================================================================== */
/* Escaping                                                                                    */
/* ========================================================================================== */

int ns_html_escape(FILE *out, const char *s)
{
    for (; *s; s++) {
        int r;
        switch (*s) {
        case '&':
            r = fputs("&amp;", out);
            break;
        case '<':
            r = fputs("&lt;", out);
            break;
        case '>':
            r = fputs("&gt;", out);
            break;
        case '"':
            r = fputs("&quot;", out);
            break;
        case '\'':
            r = fputs("&#39;", out);
            break;
        default:
            r = fputc(*s, out);
        }
        if (r == EOF) {
            return NS_EIO;
        }
    }
    return NS_OK;
}

int ns_csv_cell(FILE *out, const char *s)
{
    int formula =
        s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
    int quote = formula || strpbrk(s, ",\"\r\n") != NULL || s[0] == ' ';
    if (quote && fputc('"', out) == EOF) {
        return NS_EIO;
    }
    if (formula && fputc('\'', out) == EOF) {
        return NS_EIO;
    }
    for (; *s; s++) {
        if (*s == '"' && fputc('"', out) == EOF) {
            return NS_EIO;
        }
        if (fputc(*s, out) == EOF) {
            return NS_EIO;
        }
    }
    if (quote && fputc('"', out) == EOF) {
        return NS_EIO;
    }
    return NS_OK;
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is not valid. */
static int utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    }
    if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) {
            return 0;
        }
        if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F)) {
            return 0;
        }
        return 3;
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) {
            return 0;
        }
        if ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

int ns_json_string(FILE *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    if (fputc('"', out) == EOF) {
        return NS_EIO;
    }
    while (*s) {
        int r, n;
        if (*s == '"' || *s == '\\') {
            r = fprintf(out, "\\%c", *s);
            s++;
        } else if (*s < 0x20) {
            r = fprintf(out, "\\u%04x", *s);
            s++;
        } else if ((n = utf8_len(s)) == 0) {
            r = fputs("\\ufffd", out);
            s++;
        } else {
            r = (int)fwrite(s, 1, (size_t)n, out) == n ? 0 : EOF;
            s += n;
        }
        if (r < 0) {
            return NS_EIO;
        }
    }
    return fputc('"', out) == EOF ? NS_EIO : NS_OK;
}

/* Text of a cell for table, CSV and HTML; buf holds numbers and times. */
static const char *cell_text(const struct ns_cell *c, char buf[40])
{
    switch (c->type) {
    case NS_CELL_NULL:
        return "";
    case NS_CELL_TEXT:
        return c->s;
    case NS_CELL_INT:
        snprintf(buf, 40, "%lld", (long long)c->i);
        return buf;
    case NS_CELL_TIME:
        ns_format_time(c->i, buf);
        return buf;
    case NS_CELL_DAY:
        ns_format_date(c->i, buf);
        return buf;
    }
    return "";
}

/* ========================================================================================== */
/* Renderers                                                                                   */
/* ========================================================================================== */

/* State shared by the row callbacks. */
struct render {
    FILE *out;        /* destination */
    const char *view; /* view name */
    long rows;        /* rows written */
    int io_error;     /* a write failed */
    /* table format keeps the rows to size the columns */
    int ncol;              /* columns */
    char **cells;          /* rows * ncol strings */
    size_t ncells;         /* cells used */
    size_t capcells;       /* cells allocated */
    const char *names[80]; /* column names (valid while the view runs) */
    char *name_copy[80];   /* copies of the names for after the run */
};

static int csv_row(void *ctx, int ncol, const char *const *names, const struct ns_cell *cells)
{
    struct render *r = ctx;
    char buf[40];
    if (r->rows == 0 && !r->ncol) {
        fputs("\xEF\xBB\xBF", r->out); /* byte-order mark: Excel reads UTF-8 */
        for (int c = 0; c < ncol; c++) {
            if ((c && fputc(',', r->out) == EOF) || ns_csv_cell(r->out, names[c]) != NS_OK) {
                return NS_EIO;
            }
        }
        if (fputs("\r\n", r->out) == EOF) {
            return NS_EIO;
        }
        r->ncol = ncol;
    }
    if (!cells) {
        return NS_OK;
    }
    for (int c = 0; c < ncol; c++) {
        if ((c && fputc(',', r->out) == EOF) ||
            ns_csv_cell(r->out, cell_text(&cells[c], buf)) != NS_OK) {
            return NS_EIO;
        }
    }
    r->rows++;
    return fputs("\r\n", r->out) == EOF ? NS_EIO : NS_OK;
}

static int json_row(void *ctx, int ncol, const char *const *names, const struct ns_cell *cells)
{
    struct render *r = ctx;
    char buf[40];
    if (!cells) {
        return NS_OK;
    }
    if (fputs(r->rows ? ",\n  {" : "\n  {", r->out) == EOF) {
        return NS_EIO;
    }
    for (int c = 0; c < ncol; c++) {
        if ((c && fputs(", ", r->out) == EOF) || ns_json_string(r->out, names[c]) != NS_OK ||
            fputs(": ", r->out) == EOF) {
            return NS_EIO;
        }
        switch (cells[c].type) {
        case NS_CELL_NULL:
            if (fputs("null", r->out) == EOF) {
                return NS_EIO;
            }
            break;
        case NS_CELL_INT:
            if (fprintf(r->out, "%lld", (long long)cells[c].i) < 0) {
                return NS_EIO;
            }
            break;
        default:
            if (ns_json_string(r->out, cell_text(&cells[c], buf)) != NS_OK) {
                return NS_EIO;
            }
        }
    }
    r->rows++;
    return fputc('}', r->out) == EOF ? NS_EIO : NS_OK;
}

/* list: the first column, one value per line, each once: ready to paste into a policy. */
static int list_row(void *ctx, int ncol, const char *const *names, const struct ns_cell *cells)
{
    struct render *r = ctx;
    char buf[40];
    const char *v;
    (void)names;
    if (!cells || ncol < 1 || cells[0].type == NS_CELL_NULL) {
        return NS_OK;
    }
    v = cell_text(&cells[0], buf);
    for (size_t k = 0; k < r->ncells; k++) {
        if (!strcasecmp(r->cells[k], v)) {
            return NS_OK;
        }
    }
    if (r->ncells == r->capcells) {
        size_t ncap = r->capcells ? r->capcells * 2 : 256;
        char **nc = realloc(r->cells, ncap * sizeof(*nc));
        if (!nc) {
            return NS_ENOMEM;
        }
        r->cells = nc;
        r->capcells = ncap;
    }
    if (!(r->cells[r->ncells] = strdup(v))) {
        return NS_ENOMEM;
    }
    r->ncells++;
    r->rows++;
    for (const char *c = v; *c; c++) {
        fputc(*c == '\r' || *c == '\n' ? ' ' : *c, r->out);
    }
    return fputc('\n', r->out) == EOF ? NS_EIO : NS_OK;
}

static int html_row(void *ctx, int ncol, const char *const *names, const struct ns_cell *cells)
{
    struct render *r = ctx;
    char buf[40];
    if (r->rows == 0 && !r->ncol) {
        fputs("<table>\n<thead><tr>", r->out);
        for (int c = 0; c < ncol; c++) {
            fputs("<th>", r->out);
            ns_html_escape(r->out, names[c]);
            fputs("</th>", r->out);
        }
        fputs("</tr></thead>\n<tbody>\n", r->out);
        r->ncol = ncol;
    }
    if (!cells) {
        fprintf(r->out,
                "<tr><td colspan=\"%d\" class=\"empty\">No NTLM activity in this range."
                "</td></tr>\n",
                ncol);
        return NS_OK;
    }
    fputs("<tr>", r->out);
    for (int c = 0; c < ncol; c++) {
        fputs(cells[c].type == NS_CELL_INT ? "<td class=\"n\">" : "<td>", r->out);
        if (ns_html_escape(r->out, cell_text(&cells[c], buf)) != NS_OK) {
            return NS_EIO;
        }
        fputs("</td>", r->out);
    }
    r->rows++;
    return fputs("</tr>\n", r->out) == EOF ? NS_EIO : NS_OK;
}

static int table_row(void *ctx, int ncol, const char *const *names, const struct ns_cell *cells)
{
    struct render *r = ctx;
    char buf[40];
    if (!r->ncol) {
        r->ncol = ncol;
        for (int c = 0; c < ncol && c < 80; c++) {
            if (!(r->name_copy[c] = strdup(names[c]))) {
                return NS_ENOMEM;
            }
        }
    }
    if (!cells) {
        return NS_OK;
    }
    if (r->ncells + (size_t)ncol > r->capcells) {
        size_t ncap = r->capcells ? r->capcells * 2 : 1024;
        char **nc;
        while (ncap < r->ncells + (size_t)ncol) {
            ncap *= 2;
        }
        if (!(nc = realloc(r->cells, ncap * sizeof(*nc)))) {
            return NS_ENOMEM;
        }
        r->cells = nc;
        r->capcells = ncap;
    }
    for (int c = 0; c < ncol; c++) {
        if (!(r->cells[r->ncells++] = strdup(cell_text(&cells[c], buf)))) {
            return NS_ENOMEM;
        }
    }
    r->rows++;
    return NS_OK;
}

/* Display width of UTF-8 text, in code points (good enough for a terminal table). */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++) {
        w += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return w;
}

#define TABLE_CELL_MAX 48

/* Writes s cut to width code points (a '~' marks the cut), control characters shown as '?',
 * padded to width unless it is the last column. */
static void table_cell(FILE *out, const char *s, size_t width, int pad)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && w < width) {
        if ((*p & 0xC0) != 0x80) {
            if (w + 1 == width && text_width((const char *)p) > 1) {
                fputs("~", out);
                w++;
                break;
            }
            w++;
        }
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
        p++;
        while ((*p & 0xC0) == 0x80) {
            fputc(*p++, out);
        }
    }
    for (; pad && w < width; w++) {
        fputc(' ', out);
    }
}

static int table_flush(struct render *r)
{
    size_t width[80];
    size_t nrows = r->ncol ? r->ncells / (size_t)r->ncol : 0;
    for (int c = 0; c < r->ncol; c++) {
        width[c] = text_width(r->name_copy[c]);
        for (size_t row = 0; row < nrows; row++) {
            size_t w = text_width(r->cells[row * (size_t)r->ncol + (size_t)c]);
            if (w > width[c]) {
                width[c] = w;
            }
        }
        if (width[c] > TABLE_CELL_MAX && c + 1 < r->ncol) {
            width[c] = TABLE_CELL_MAX; /* the last column runs uncut */
        }
    }
    for (int c = 0; c < r->ncol; c++) {
        table_cell(r->out, r->name_copy[c], width[c], c + 1 < r->ncol);
        fputs(c + 1 < r->ncol ? "  " : "\n", r->out);
    }
    for (int c = 0; c < r->ncol; c++) {
        for (size_t k = 0; k < width[c]; k++) {
            fputc('-', r->out);
        }
        fputs(c + 1 < r->ncol ? "  " : "\n", r->out);
    }
    for (size_t row = 0; row < nrows; row++) {
        for (int c = 0; c < r->ncol; c++) {
            table_cell(r->out, r->cells[row * (size_t)r->ncol + (size_t)c], width[c],
                       c + 1 < r->ncol);
            fputs(c + 1 < r->ncol ? "  " : "\n", r->out);
        }
    }
    fprintf(r->out, "(%zu row%s)\n", nrows, nrows == 1 ? "" : "s");
    return ferror(r->out) ? NS_EIO : NS_OK;
}

static const char html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "style-src 'unsafe-inline'\">\n<title>ntlmscope: ";
static const char html_style[] =
    "</title>\n<style>body{font:14px system-ui,sans-serif;margin:2em;color:#1d2733;"
    "max-width:1200px}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.8em}"
    "table{border-collapse:collapse;width:100%}th,td{border:1px solid #dde3ea;"
    "padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}"
    "th{background:#f0f3f7;font-size:.85em}td.n{text-align:right}"
    "td.empty,p.empty{color:#777;font-style:italic}svg.chart{width:100%;height:auto}"
    ".legend{font-size:.9em;color:#5c6b7a}.kpi{display:inline-block;border:1px solid #dde3ea;"
    "border-radius:6px;padding:.5em .8em;margin:0 .5em .5em 0}.kpi b{display:block;"
    "font-size:1.4em}.muted{color:#5c6b7a}pre.list{background:#f5f7fa;padding:.6em;"
    "border:1px solid #dde3ea}</style></head><body>\n";

int ns_html_begin(FILE *out, const char *title)
{
    fputs(html_head, out);
    ns_html_escape(out, title);
    fputs(html_style, out);
    return ferror(out) ? NS_EIO : NS_OK;
}

int ns_html_table(FILE *out, const struct ns_table *t)
{
    fputs("<table>\n<thead><tr>", out);
    for (int c = 0; c < t->ncol; c++) {
        fputs("<th>", out);
        ns_html_escape(out, t->names[c]);
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
    if (!t->nrows) {
        fprintf(out, "<tr><td colspan=\"%d\" class=\"empty\">None.</td></tr>\n",
                t->ncol ? t->ncol : 1);
    }
    for (size_t r = 0; r < t->nrows; r++) {
        fputs("<tr>", out);
        for (int c = 0; c < t->ncol; c++) {
            const char *v = t->cells[r * (size_t)t->ncol + (size_t)c];
            fputs(t->numeric[c] ? "<td class=\"n\">" : "<td>", out);
            ns_html_escape(out, v ? v : "");
            fputs("</td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
    return ferror(out) ? NS_EIO : NS_OK;
}

/* Charts for the views that have one: view, chart kind, columns. */
static const struct {
    const char *view;      /* view name */
    int bars;              /* 1: bars, 0: lines over days */
    const char *series[5]; /* value columns (bars: the first) */
    const char *labels[5]; /* their legend (bars: the label column) */
} view_charts[] = {
    {"trend",
     0,
     {"events", "ntlmv1_events", "warnings", "blocked", NULL},
     {"all NTLM", "NTLMv1", "warnings", "blocked", NULL}},
    {"burndown",
     0,
     {"active_dependencies", "active_ntlmv1_dependencies", NULL, NULL, NULL},
     {"active dependencies", "of which NTLMv1", NULL, NULL, NULL}},
    {"reasons", 1, {"events", NULL, NULL, NULL, NULL}, {"reason", NULL, NULL, NULL, NULL}},
};

/* Writes the chart of a view, if it has one. */
static int view_chart(struct ns_store *st, const char *view, const struct ns_view_params *p,
                      FILE *out)
{
    for (size_t k = 0; k < sizeof(view_charts) / sizeof(view_charts[0]); k++) {
        struct ns_table t;
        int rc;
        if (strcmp(view_charts[k].view, view)) {
            continue;
        }
        if ((rc = ns_table_load(st, view, p, &t)) != NS_OK) {
            return rc;
        }
        rc = view_charts[k].bars
                 ? ns_svg_bars(out, &t, view_charts[k].labels[0], view_charts[k].series[0], view)
                 : ns_svg_lines(out, &t, view_charts[k].series, view_charts[k].labels, view);
        ns_table_free(&t);
        return rc;
    }
    return NS_OK;
}

int ns_report_render(struct ns_store *st, const char *view, const struct ns_view_params *p,
                     enum ns_report_format fmt, FILE *out)
{
    struct render r;
    int rc;
    memset(&r, 0, sizeof(r));
    r.out = out;
    r.view = view;
    if (!ns_store_view_exists(view) && !(fmt == NS_REP_HTML && !strcmp(view, "inventory"))) {
        return NS_ENOTFOUND;
    }
    switch (fmt) {
    case NS_REP_CSV:
        rc = ns_store_view(st, view, p, csv_row, &r);
        break;
    case NS_REP_JSON:
        fputc('[', out);
        rc = ns_store_view(st, view, p, json_row, &r);
        fputs(r.rows ? "\n]\n" : "]\n", out);
        break;
    case NS_REP_HTML: {
        char range[80], a[16], b[16];
        if (!strcmp(view, "inventory")) {
            return ns_inventory_html(st, p, out);
        }
        ns_html_begin(out, view);
        fputs("<h1>NTLM ", out);
        ns_html_escape(out, view);
        fputs("</h1>\n", out);
        ns_format_date(p->since_day, a);
        ns_format_date(p->until_day, b);
        snprintf(range, sizeof(range), "%s to %s", p->since_day <= -1000000 ? "the start" : a,
                 p->until_day >= 1000000 ? "now" : b);
        fputs("<p>Range: ", out);
        ns_html_escape(out, range);
        fputs("</p>\n", out);
        if ((rc = view_chart(st, view, p, out)) != NS_OK) {
            break;
        }
        rc = ns_store_view(st, view, p, html_row, &r);
        fputs("</tbody></table>\n</body></html>\n", out);
        break;
    }
    case NS_REP_LIST:
        if (!strcmp(view, "inventory")) {
            return NS_ENOTFOUND;
        }
        rc = ns_store_view(st, view, p, list_row, &r);
        break;
    case NS_REP_TABLE:
    default:
        rc = ns_store_view(st, view, p, table_row, &r);
        if (rc == NS_OK) {
            rc = table_flush(&r);
        }
        break;
    }
    for (size_t k = 0; k < r.ncells; k++) {
        free(r.cells[k]);
    }
    free(r.cells);
    for (int c = 0; c < 80; c++) {
        free(r.name_copy[c]);
    }
    if (rc == NS_OK && (fflush(out) != 0 || ferror(out))) {
        rc = NS_EIO;
    }
    return rc;
}
