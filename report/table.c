/*
 * table.c - a view's rows in memory, and the SVG charts drawn from them.
 */
#include <stdlib.h>
#include <string.h>

#include "ns_report.h"
#include "ns_summary.h"

/* ========================================================================================== */
/* Tables                                                                                      */
/* ========================================================================================== */

struct loader {
    struct ns_table *t; /* being filled */
    size_t cap;         /* rows allocated */
};

static int load_row(void *ctx, int ncol, const char *const *names, const struct ns_cell *cells)
{
    struct loader *l = ctx;
    struct ns_table *t = l->t;
    char buf[40];
    if (!t->names) {
        t->ncol = ncol;
        if (!(t->names = calloc((size_t)ncol, sizeof(*t->names))) ||
            !(t->numeric = calloc((size_t)ncol, sizeof(*t->numeric)))) {
            return NS_ENOMEM;
        }
        for (int c = 0; c < ncol; c++) {
            if (!(t->names[c] = strdup(names[c]))) {
                return NS_ENOMEM;
            }
        }
    }
    if (!cells) {
        return NS_OK;
    }
    if (t->nrows == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        char **nc = realloc(t->cells, ncap * (size_t)ncol * sizeof(*nc));
        if (!nc) {
            return NS_ENOMEM;
        }
        t->cells = nc;
        l->cap = ncap;
    }
    for (int c = 0; c < ncol; c++) {
        const char *text = NULL;
        char **slot = &t->cells[t->nrows * (size_t)ncol + (size_t)c];
        switch (cells[c].type) {
        case NS_CELL_NULL:
            break;
        case NS_CELL_TEXT:
            text = cells[c].s;
            break;
        case NS_CELL_INT:
            snprintf(buf, sizeof(buf), "%lld", (long long)cells[c].i);
            t->numeric[c] = 1;
            text = buf;
            break;
        case NS_CELL_TIME:
            ns_format_time(cells[c].i, buf);
            text = buf;
            break;
        case NS_CELL_DAY:
            ns_format_date(cells[c].i, buf);
            text = buf;
            break;
        }
        *slot = NULL;
        if (text && !(*slot = strdup(text))) {
            for (int k = 0; k < c; k++) {
                free(t->cells[t->nrows * (size_t)ncol + (size_t)k]);
            }
            return NS_ENOMEM;
        }
    }
    t->nrows++;
    return NS_OK;
}

int ns_table_load(struct ns_store *st, const char *view, const struct ns_view_params *p,
                  struct ns_table *t)
{
    struct loader l = {t, 0};
    memset(t, 0, sizeof(*t));
    return ns_store_view(st, view, p, load_row, &l);
}

void ns_table_free(struct ns_table *t)
{
    if (!t) {
        return;
    }
    for (size_t k = 0; k < t->nrows * (size_t)t->ncol; k++) {
        free(t->cells[k]);
    }
    for (int c = 0; c < t->ncol && t->names; c++) {
        free(t->names[c]);
    }
    free(t->cells);
    free(t->names);
    free(t->numeric);
    memset(t, 0, sizeof(*t));
}

static int col_index(const struct ns_table *t, const char *col)
{
    for (int c = 0; c < t->ncol; c++) {
        if (!strcmp(t->names[c], col)) {
            return c;
        }
    }
    return -1;
}

const char *ns_table_get(const struct ns_table *t, size_t row, const char *col)
{
    int c = col_index(t, col);
    if (c < 0 || row >= t->nrows) {
        return NULL;
    }
    return t->cells[row * (size_t)t->ncol + (size_t)c];
}

int64_t ns_table_int(const struct ns_table *t, size_t row, const char *col)
{
    const char *v = ns_table_get(t, row, col);
    int64_t n = 0;
    if (v && ns_parse_int(v, &n) != NS_OK) {
        n = 0;
    }
    return n;
}

/* ========================================================================================== */
/* SVG                                                                                         */
/* ========================================================================================== */

/* Series colours, in the order the series are given. */
static const char *const palette[] = {"#1f77b4", "#d62728", "#ff9f1c", "#6a3d9a", "#2ca02c"};

int ns_svg_lines(FILE *out, const struct ns_table *t, const char *const *series,
                 const char *const *labels, const char *title)
{
    const int W = 900, H = 260, L = 60, R = 12, T = 12, B = 30;
    int64_t first = 0, last = -1, ndays, max = 1;
    int nseries = 0;
    if (!t->nrows) {
        fputs("<p class=\"empty\">No NTLM activity in this range.</p>\n", out);
        return ferror(out) ? NS_EIO : NS_OK;
    }
    ns_parse_date(ns_table_get(t, 0, "day"), &first);
    ns_parse_date(ns_table_get(t, t->nrows - 1, "day"), &last);
    ndays = last - first + 1;
    while (series[nseries]) {
        nseries++;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        for (int s = 0; s < nseries; s++) {
            int64_t v = ns_table_int(t, r, series[s]);
            max = v > max ? v : max;
        }
    }
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" role=\"img\" "
            "aria-label=\"",
            W, H);
    ns_html_escape(out, title);
    fputs("\" class=\"chart\">\n", out);
    for (int k = 0; k <= 4; k++) {
        double v = (double)max * k / 4, y = T + (H - T - B) * (1 - v / (double)max);
        fprintf(out,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e6ebf0\"/>"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" "
                "fill=\"#5c6b7a\">%.0f</text>\n",
                L, W - R, y, y, L - 6, y + 4, v);
    }
    for (int64_t d = 0; d < ndays; d++) {
        int64_t step = ndays / 8 + 1;
        if (d % step == 0) {
            char date[16];
            double x = L + (ndays == 1 ? (W - L - R) / 2.0
                                       : (double)d * (W - L - R) / (double)(ndays - 1));
            ns_format_date(first + d, date);
            fprintf(out,
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" font-size=\"11\" "
                    "fill=\"#5c6b7a\">%s</text>\n",
                    x, H - 10, date + 5);
        }
    }
    for (int s = nseries - 1; s >= 0; s--) {
        const char *color = palette[s % 5];
        size_t r = 0;
        fprintf(out,
                "<g class=\"series\" data-series=\"%s\"><polyline fill=\"none\" "
                "stroke-width=\"2\" stroke=\"%s\" points=\"",
                series[s], color);
        for (int64_t d = 0; d < ndays; d++) {
            int64_t day = 0, v = 0;
            double x = L + (ndays == 1 ? (W - L - R) / 2.0
                                       : (double)d * (W - L - R) / (double)(ndays - 1));
            while (r < t->nrows &&
                   (ns_parse_date(ns_table_get(t, r, "day"), &day), day < first + d)) {
                r++;
            }
            if (r < t->nrows && day == first + d) {
                v = ns_table_int(t, r, series[s]);
            }
            fprintf(out, "%.1f,%.1f ", x, T + (H - T - B) * (1 - (double)v / (double)max));
        }
        fputs("\"/>", out);
        r = 0;
        for (int64_t d = 0; d < ndays; d++) {
            int64_t day = 0, v = 0;
            double x = L + (ndays == 1 ? (W - L - R) / 2.0
                                       : (double)d * (W - L - R) / (double)(ndays - 1));
            while (r < t->nrows &&
                   (ns_parse_date(ns_table_get(t, r, "day"), &day), day < first + d)) {
                r++;
            }
            if (r < t->nrows && day == first + d) {
                v = ns_table_int(t, r, series[s]);
            }
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>", x,
                    T + (H - T - B) * (1 - (double)v / (double)max), color);
        }
        fputs("</g>\n", out);
    }
    fprintf(out, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#9aa8b6\"/>\n</svg>\n", L,
            W - R, H - B, H - B);
    fputs("<p class=\"legend\">", out);
    for (int s = 0; s < nseries; s++) {
        fprintf(out, "<span style=\"color:%s\">&#9632;</span> ", palette[s % 5]);
        ns_html_escape(out, labels[s]);
        fputs(" &nbsp; ", out);
    }
    fputs("</p>\n", out);
    return ferror(out) ? NS_EIO : NS_OK;
}

int ns_svg_bars(FILE *out, const struct ns_table *t, const char *label_col, const char *value_col,
                const char *title)
{
    const int W = 900, rowh = 24, L = 320;
    int64_t max = 1;
    if (!t->nrows) {
        fputs("<p class=\"empty\">No NTLM activity in this range.</p>\n", out);
        return ferror(out) ? NS_EIO : NS_OK;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        int64_t v = ns_table_int(t, r, value_col);
        max = v > max ? v : max;
    }
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %zu\" role=\"img\" "
            "aria-label=\"",
            W, t->nrows * (size_t)rowh + 8);
    ns_html_escape(out, title);
    fputs("\" class=\"chart\">\n", out);
    for (size_t r = 0; r < t->nrows; r++) {
        const char *label = ns_table_get(t, r, label_col);
        int64_t v = ns_table_int(t, r, value_col);
        double w = (double)(W - L - 90) * (double)v / (double)max;
        fprintf(out,
                "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\" font-size=\"12\" fill=\"#1d2733\">",
                L - 8, r * (size_t)rowh + 17);
        {
            /* at most 44 characters (cut between UTF-8 characters), so the label fits */
            char cut[200];
            size_t n = 0, chars = 0;
            const char *l = label ? label : "not reported by the event";
            while (l[n] && n + 4 < sizeof(cut) && chars < 44) {
                n++;
                while ((l[n] & 0xC0) == 0x80 && n + 4 < sizeof(cut)) {
                    n++;
                }
                chars++;
            }
            memcpy(cut, l, n);
            if (l[n]) {
                memcpy(cut + n, "\xe2\x80\xa6", 3); /* ellipsis */
                n += 3;
            }
            cut[n] = '\0';
            ns_html_escape(out, cut);
        }
        fprintf(out,
                "</text><rect class=\"bar\" x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"%d\" "
                "fill=\"#1f77b4\"/><text x=\"%.1f\" y=\"%zu\" font-size=\"12\" "
                "fill=\"#5c6b7a\">%lld</text>\n",
                L, r * (size_t)rowh + 5, w < 1 ? 1 : w, rowh - 8, L + w + 6, r * (size_t)rowh + 17,
                (long long)v);
    }
    fputs("</svg>\n", out);
    return ferror(out) ? NS_EIO : NS_OK;
}
