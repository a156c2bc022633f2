/*
 * common.c - result codes, logging, capped buffers, arenas, number and time conversions.
 */
#include "ns_common.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *ns_rc_str(int rc)
{
    switch (rc) {
    case NS_OK:
        return "ok";
    case NS_ENOMEM:
        return "out of memory";
    case NS_ETOOBIG:
        return "input too large";
    case NS_EIO:
        return "input/output error";
    case NS_EPARSE:
        return "malformed input";
    case NS_EINVAL:
        return "invalid argument";
    case NS_EDB:
        return "database error";
    case NS_EABORT:
        return "aborted";
    case NS_ENOTFOUND:
        return "not found";
    default:
        return "unknown error";
    }
}

void ns_log_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    const char *base = strrchr(file, '/');
    fprintf(stderr, "ntlmscope [%s:%d]: ", base ? base + 1 : file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ========================================================================================== */
/* ns_buf                                                                                      */
/* ========================================================================================== */

void ns_buf_init(struct ns_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : (size_t)64 << 20;
}

static int buf_reserve(struct ns_buf *b, size_t extra)
{
    size_t need, ncap;
    char *nd;
    if (extra > b->max || b->len > b->max - extra) {
        return NS_ETOOBIG;
    }
    need = b->len + extra + 1;
    if (need <= b->cap) {
        return NS_OK;
    }
    ncap = b->cap ? b->cap : 256;
    while (ncap < need) {
        ncap *= 2;
    }
    nd = realloc(b->data, ncap);
    if (!nd) {
        return NS_ENOMEM;
    }
    b->data = nd;
    b->cap = ncap;
    return NS_OK;
}

char *ns_buf_space(struct ns_buf *b, size_t n)
{
    return buf_reserve(b, n) == NS_OK ? b->data + b->len : NULL;
}

void ns_buf_commit(struct ns_buf *b, size_t n)
{
    b->len += n;
    b->data[b->len] = '\0';
}

int ns_buf_add(struct ns_buf *b, const void *data, size_t len)
{
    int rc = buf_reserve(b, len);
    if (rc != NS_OK) {
        return rc;
    }
    if (len) {
        memcpy(b->data + b->len, data, len);
    }
    b->len += len;
    b->data[b->len] = '\0';
    return NS_OK;
}

int ns_buf_adds(struct ns_buf *b, const char *s)
{
    return ns_buf_add(b, s, strlen(s));
}

int ns_buf_printf(struct ns_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return NS_EINVAL;
    }
    if ((rc = buf_reserve(b, (size_t)n)) != NS_OK) {
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return NS_OK;
}

void ns_buf_reset(struct ns_buf *b)
{
    b->len = 0;
    if (b->data) {
        b->data[0] = '\0';
    }
}

void ns_buf_free(struct ns_buf *b)
{
    if (!b) {
        return;
    }
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void ns_buf_consume(struct ns_buf *b, size_t n)
{
    if (n >= b->len) {
        ns_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

/* ========================================================================================== */
/* ns_arena                                                                                    */
/* ========================================================================================== */

struct ns_arena_block {
    struct ns_arena_block *next; /* older block */
    size_t size;                 /* bytes in mem[] */
    size_t used;                 /* bytes handed out from mem[] */
    char mem[];                  /* storage */
};

void ns_arena_init(struct ns_arena *a, size_t max)
{
    a->head = NULL;
    a->used = 0;
    a->max = max ? max : (size_t)16 << 20;
}

char *ns_arena_strndup(struct ns_arena *a, const char *s, size_t len)
{
    struct ns_arena_block *blk = a->head;
    char *p;
    if (len >= a->max || a->used > a->max - len - 1) {
        return NULL;
    }
    if (!blk || blk->size - blk->used < len + 1) {
        size_t size = 8192;
        while (size < len + 1) {
            size *= 2;
        }
        blk = malloc(sizeof(*blk) + size);
        if (!blk) {
            return NULL;
        }
        blk->size = size;
        blk->used = 0;
        blk->next = a->head;
        a->head = blk;
    }
    p = blk->mem + blk->used;
    if (len) {
        memcpy(p, s, len);
    }
    p[len] = '\0';
    blk->used += len + 1;
    a->used += len + 1;
    return p;
}

char *ns_arena_strdup(struct ns_arena *a, const char *s)
{
    return ns_arena_strndup(a, s, strlen(s));
}

void ns_arena_reset(struct ns_arena *a)
{
    struct ns_arena_block *blk = a->head, *keep = NULL;
    /* keep the oldest block (the first allocated, usually sized for a typical event) */
    while (blk) {
        struct ns_arena_block *next = blk->next;
        if (!next) {
            keep = blk;
        } else {
            free(blk);
        }
        blk = next;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->used = 0;
}

void ns_arena_free(struct ns_arena *a)
{
    struct ns_arena_block *blk;
    if (!a) {
        return;
    }
    blk = a->head;
    while (blk) {
        struct ns_arena_block *next = blk->next;
        free(blk);
        blk = next;
    }
    a->head = NULL;
    a->used = 0;
}

/* ========================================================================================== */
/* Conversions                                                                                 */
/* ========================================================================================== */

int ns_strieq(const char *a, const char *b)
{
    while (*a && *b) {
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) {
            return 0;
        }
        a++;
        b++;
    }
    return *a == *b;
}

int ns_copy_cut(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    int cut = n >= cap;
    if (cut) {
        n = cap - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return cut;
}

int ns_parse_int(const char *s, int64_t *out)
{
    int neg = 0;
    uint64_t v = 0;
    int digits = 0;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
        s++;
    }
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        for (; isxdigit((unsigned char)*s); s++, digits++) {
            int d = isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);
            if (v > (UINT64_MAX >> 4)) {
                return NS_EPARSE;
            }
            v = (v << 4) | (uint64_t)d;
        }
    } else {
        for (; isdigit((unsigned char)*s); s++, digits++) {
            uint64_t d = (uint64_t)(*s - '0');
            if (v > (UINT64_MAX - d) / 10) {
                return NS_EPARSE;
            }
            v = v * 10 + d;
        }
    }
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
        s++;
    }
    if (!digits || *s) {
        return NS_EPARSE;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) {
            return NS_EPARSE;
        }
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        *out = (int64_t)v; /* 2^63..2^64-1 keep their bit pattern */
    }
    return NS_OK;
}

int64_t ns_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's days_from_civil */
    int64_t era;
    unsigned yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void ns_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;
    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    *y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y += *m <= 2;
}

static int take_digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i])) {
            return NS_EPARSE;
        }
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return NS_OK;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dm[m - 1];
}

int ns_parse_date(const char *s, int64_t *out_days)
{
    int y, m, d;
    if (take_digits(&s, 4, &y) || *s++ != '-' || take_digits(&s, 2, &m) || *s++ != '-' ||
        take_digits(&s, 2, &d) || *s) {
        return NS_EPARSE;
    }
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
        return NS_EPARSE;
    }
    *out_days = ns_days_from_civil(y, (unsigned)m, (unsigned)d);
    return NS_OK;
}

int ns_parse_time(const char *s, int64_t *out_us)
{
    int y, mo, d, h, mi, sec, frac = 0, fdigits = 0;
    int64_t offset_s = 0, t;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
        s++;
    }
    if (take_digits(&s, 4, &y) || *s++ != '-' || take_digits(&s, 2, &mo) || *s++ != '-' ||
        take_digits(&s, 2, &d)) {
        return NS_EPARSE;
    }
    if (*s != 'T' && *s != 't' && *s != ' ') {
        return NS_EPARSE;
    }
    s++;
    if (take_digits(&s, 2, &h) || *s++ != ':' || take_digits(&s, 2, &mi) || *s++ != ':' ||
        take_digits(&s, 2, &sec)) {
        return NS_EPARSE;
    }
    if (*s == '.' || *s == ',') {
        s++;
        while (isdigit((unsigned char)*s)) {
            if (fdigits < 6) {
                frac = frac * 10 + (*s - '0');
            }
            fdigits++;
            s++;
        }
        if (fdigits == 0 || fdigits > 9) {
            return NS_EPARSE;
        }
        for (int i = fdigits; i < 6; i++) {
            frac *= 10;
        }
    }
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s == '-' ? -1 : 1, oh, om = 0;
        s++;
        if (take_digits(&s, 2, &oh)) {
            return NS_EPARSE;
        }
        if (*s == ':') {
            s++;
        }
        if (*s && take_digits(&s, 2, &om)) {
            return NS_EPARSE;
        }
        if (oh > 23 || om > 59) {
            return NS_EPARSE;
        }
        offset_s = sign * (oh * 3600 + om * 60);
    }
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
        s++;
    }
    if (*s) {
        return NS_EPARSE;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60) {
        return NS_EPARSE;
    }
    t = ns_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec -
        offset_s;
    *out_us = t * 1000000 + frac;
    return NS_OK;
}

int64_t ns_day_of(int64_t us)
{
    int64_t s = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

/* y clamped to the four digits ISO 8601 dates have. */
static unsigned year4(int64_t y)
{
    return y < 0 ? 0u : y > 9999 ? 9999u : (unsigned)y;
}

void ns_format_date(int64_t days, char out[16])
{
    int64_t y;
    unsigned m, d;
    ns_civil_from_days(days, &y, &m, &d);
    /* years outside 0..9999 are clamped: the bounds also let the compiler see 16 bytes hold it */
    snprintf(out, 16, "%04u-%02u-%02u", year4(y), m % 100u, d % 100u);
}

void ns_format_time(int64_t us, char out[32])
{
    int64_t day = ns_day_of(us);
    int64_t rem = us - day * 86400 * (int64_t)1000000;
    int64_t y;
    unsigned m, d;
    unsigned secs = (unsigned)(rem / 1000000) % 86400u,
             micro = (unsigned)(rem % 1000000) % 1000000u;
    static const unsigned char width[7] = {4, 2, 2, 2, 2, 2, 6};
    static const char after[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
    unsigned parts[7];
    char *p = out;
    /* "YYYY-MM-DDTHH:MM:SS.ffffffZ", digit by digit (JSON and views write one per event) */
    ns_civil_from_days(day, &y, &m, &d);
    parts[0] = year4(y);
    parts[1] = m % 100u;
    parts[2] = d % 100u;
    parts[3] = secs / 3600u;
    parts[4] = secs / 60u % 60u;
    parts[5] = secs % 60u;
    parts[6] = micro;
    for (int k = 0; k < 7; k++) {
        unsigned v = parts[k];
        for (int w = width[k] - 1; w >= 0; w--) {
            p[w] = (char)('0' + v % 10u);
            v /= 10u;
        }
        p += width[k];
        *p++ = after[k];
    }
    *p = '\0';
}

size_t ns_utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t ns_utf8_len(const unsigned char *p, size_t n, uint32_t *cp)
{
    size_t len = p[0] < 0x80             ? 1
                 : (p[0] & 0xE0) == 0xC0 ? 2
                 : (p[0] & 0xF0) == 0xE0 ? 3
                 : (p[0] & 0xF8) == 0xF0 ? 4
                                         : 0;
    uint32_t c;
    if (!len || len > n) {
        return 0;
    }
    c = len == 1 ? p[0] : len == 2 ? p[0] & 0x1Fu : len == 3 ? p[0] & 0x0Fu : p[0] & 0x07u;
    for (size_t k = 1; k < len; k++) {
        if ((p[k] & 0xC0) != 0x80) {
            return 0;
        }
        c = c << 6 | (p[k] & 0x3Fu);
    }
    if ((len == 2 && c < 0x80) || (len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
        c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
        return 0; /* overlong, out of range or a surrogate */
    }
    *cp = c;
    return len;
}

/* ========================================================================================== */
/* Text sets                                                                                   */
/* ========================================================================================== */

static int textset_grow(struct ns_textset *t)
{
    size_t cap = t->cap ? t->cap * 2 : 4096;
    struct ns_textset_slot *n = calloc(cap, sizeof(*n));
    if (!n) {
        return NS_ENOMEM;
    }
    for (size_t k = 0; k < t->cap; k++) {
        if (t->slots[k].hash) {
            size_t m = (size_t)t->slots[k].hash & (cap - 1);
            while (n[m].hash) {
                m = (m + 1) & (cap - 1);
            }
            n[m] = t->slots[k];
        }
    }
    free(t->slots);
    t->slots = n;
    t->cap = cap;
    return NS_OK;
}

struct ns_textset_slot *ns_textset_find(struct ns_textset *t, const char *base, const char *s,
                                        size_t len, uint64_t h)
{
    size_t m;
    if ((t->used + 1) * 2 > t->cap && textset_grow(t) != NS_OK) {
        return NULL;
    }
    for (m = (size_t)h & (t->cap - 1); t->slots[m].hash; m = (m + 1) & (t->cap - 1)) {
        const struct ns_textset_slot *e = &t->slots[m];
        if (e->hash == h && e->len == len && !memcmp(base + e->off, s, len)) {
            break;
        }
    }
    return &t->slots[m];
}

void ns_textset_put(struct ns_textset *t, struct ns_textset_slot *slot, uint64_t h, uint32_t off,
                    uint32_t len, uint32_t id)
{
    slot->hash = h;
    slot->off = off;
    slot->len = len;
    slot->id = id;
    t->used++;
}

void ns_textset_clear(struct ns_textset *t)
{
    if (t->slots) {
        memset(t->slots, 0, t->cap * sizeof(*t->slots));
    }
    t->used = 0;
}

void ns_textset_free(struct ns_textset *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = t->used = 0;
}
