/*
 * xmlfast.c - a scanner of our own for the event XML Windows writes, about four times faster
 * than libxml2's push parser on one <Event> element.
 *
 * It reads only what it can read exactly as libxml2 would: ASCII names without prefixes,
 * attributes in either quotes, the five predefined entities and character references, text in
 * valid UTF-8 with line ends normalized, empty-element tags, default namespace declarations
 * of plain URIs. Anything else - a comment, CDATA, a processing instruction or DOCTYPE, a
 * prefix, a control character, a character XML forbids, malformed markup, an odd xmlns -
 * makes it give up (return 0) before the caller trusts any callback it made; the caller then
 * parses the event again with libxml2, which reports the error or reads the rare construct.
 * So an event the scanner accepts gives the same callbacks, in the same order and with the
 * same text, as libxml2's SAX2 callbacks (tests/test_collector.c compares both on mutated
 * events).
 */
#include "ns_parser.h"

#include <pthread.h>
#include <string.h>

#define FAST_DEPTH 48     /* elements open at once (libxml2 allows 256) */
#define FAST_NAME 64      /* bytes of a name, with its NUL */
#define FAST_ATTRS 16     /* attributes of one tag */
#define FAST_SCRATCH 2048 /* decoded attribute values of one tag that held entities */

/* Byte classes. */
enum {
    C_TEXT = 1,  /* plain in text: no '<', '&', '\r', ']', control byte or non-ASCII */
    C_ATTR = 2,  /* plain in an attribute value: printable ASCII but '<', '&', '"', '\'' */
    C_START = 4, /* may start a name */
    C_NAME = 8,  /* may continue a name */
    C_WS = 16    /* XML white space */
};

static unsigned char cls[256];

static pthread_once_t cls_once = PTHREAD_ONCE_INIT;

/* Fills cls[] (once, through pthread_once: the server parses on several threads). */
static void fill_classes(void)
{
    for (int c = 0; c < 256; c++) {
        unsigned char v = 0;
        if ((c >= 0x20 && c < 0x80 && c != '<' && c != '&' && c != ']') || c == '\t' || c == '\n') {
            v |= C_TEXT;
        }
        if (c >= 0x20 && c < 0x80 && c != '<' && c != '&' && c != '"' && c != '\'') {
            v |= C_ATTR;
        }
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_') {
            v |= C_START | C_NAME;
        }
        if ((c >= '0' && c <= '9') || c == '.' || c == '-') {
            v |= C_NAME;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            v |= C_WS;
        }
        cls[c] = v;
    }
}

static const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
    while (p < end && (cls[*p] & C_WS)) {
        p++;
    }
    return p;
}

/* 1 when cp is a character XML 1.0 allows. */
static int xml_char(unsigned long cp)
{
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

/* Length of the well-formed UTF-8 sequence of an allowed character at p, or 0. */
static size_t utf8_char(const unsigned char *p, const unsigned char *end)
{
    uint32_t cp;
    size_t n = ns_utf8_len(p, (size_t)(end - p), &cp);
    return n && xml_char(cp) ? n : 0;
}

/* Decodes the entity or character reference at p (p[0] == '&') into out (4 bytes) and sets
 * *olen. Returns the bytes it spans, or 0 when it is not one this scanner reads. */
static size_t entity(const unsigned char *p, const unsigned char *end, char *out, size_t *olen)
{
    static const struct {
        const char *ref; /* the reference, '&' to ';' */
        size_t len;      /* its length */
        char ch;         /* what it stands for */
    } named[] = {{"&lt;", 4, '<'},
                 {"&gt;", 4, '>'},
                 {"&amp;", 5, '&'},
                 {"&quot;", 6, '"'},
                 {"&apos;", 6, '\''}};
    size_t avail = (size_t)(end - p), k = 2, digits = 0;
    unsigned long cp = 0;
    int hex;
    if (avail < 4) {
        return 0;
    }
    if (p[1] != '#') {
        for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
            if (avail >= named[i].len && !memcmp(p, named[i].ref, named[i].len)) {
                out[0] = named[i].ch;
                *olen = 1;
                return named[i].len;
            }
        }
        return 0;
    }
    hex = p[2] == 'x';
    k += (size_t)hex;
    for (; k < avail && digits < 7; k++, digits++) {
        unsigned c = p[k], d;
        if (c >= '0' && c <= '9') {
            d = c - '0';
        } else if (hex && c >= 'a' && c <= 'f') {
            d = c - 'a' + 10;
        } else if (hex && c >= 'A' && c <= 'F') {
            d = c - 'A' + 10;
        } else {
            break;
        }
        cp = cp * (hex ? 16u : 10u) + d;
    }
    if (!digits || k >= avail || p[k] != ';' || !xml_char(cp)) {
        return 0;
    }
    *olen = ns_utf8_put(out, (uint32_t)cp);
    return k + 1;
}

/* Reads a name at p into out (FAST_NAME bytes, NUL-terminated); returns its end or NULL. */
static const unsigned char *read_name(const unsigned char *p, const unsigned char *end, char *out)
{
    const unsigned char *s = p;
    if (p >= end || !(cls[*p] & C_START)) {
        return NULL;
    }
    while (++p < end && (cls[*p] & C_NAME)) {
    }
    if (p >= end || (size_t)(p - s) >= FAST_NAME || *p == ':' || *p >= 0x80) {
        return NULL; /* a prefix or a non-ASCII name: libxml2 reads it */
    }
    memcpy(out, s, (size_t)(p - s));
    out[p - s] = '\0';
    return p;
}

/* 1 when an xmlns value is a URI libxml2 takes without an error: the event namespace, an
 * http(s) URI of plain characters, or a relative name of plain characters. */
static int plain_uri(const char *v, size_t n)
{
    static const char *const prefixes[] = {"https://", "http://", ""};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t pl = strlen(prefixes[i]);
        if (n >= pl && !memcmp(v, prefixes[i], pl)) {
            for (size_t k = pl; k < n; k++) {
                unsigned char c = (unsigned char)v[k];
                if (!((cls[c] & C_NAME) || (pl && c == '/'))) {
                    return 0;
                }
            }
            return !(pl && n > pl && v[pl] == '/') &&
                   !(n == 29 && !memcmp(v, "http://www.w3.org/2000/xmlns/", 29)) &&
                   !(n == 36 && !memcmp(v, "http://www.w3.org/XML/1998/namespace", 36));
        }
    }
    return 0;
}

/* Reads the attributes of a start tag from p (just after its name) up to and including '>'
 * or "/>". Fills attrs (libxml2's SAX2 layout: local name, prefix, URI, value, value end) and
 * *nattrs; *empty tells "/>". Returns the byte after the tag, or NULL. */
static const unsigned char *read_attrs(const unsigned char *p, const unsigned char *end,
                                       char (*anames)[FAST_NAME], const char **attrs, int *nattrs,
                                       char *scratch, int *empty)
{
    size_t used = 0;
    int n = 0, saw_xmlns = 0;
    for (;;) {
        const unsigned char *q = skip_ws(p, end), *v;
        char quote, *name;
        const char *vs, *ve;
        if (q >= end) {
            return NULL;
        }
        if (*q == '>' || *q == '/') {
            *empty = *q == '/';
            if (*empty && (q + 1 >= end || q[1] != '>')) {
                return NULL;
            }
            *nattrs = n;
            return q + 1 + (size_t)*empty;
        }
        if (q == p || n == FAST_ATTRS || !(q = read_name(q, end, name = anames[n]))) {
            return NULL; /* no space before it, too many, or not a plain name */
        }
        q = skip_ws(q, end);
        if (q >= end || *q != '=') {
            return NULL;
        }
        q = skip_ws(q + 1, end);
        if (q >= end || (*q != '"' && *q != '\'')) {
            return NULL;
        }
        quote = (char)*q++;
        for (v = q; v < end && (cls[*v] & C_ATTR); v++) {
        }
        vs = (const char *)q;
        ve = (const char *)v;
        if (v < end && *v != quote) {
            /* entities, the other quote or UTF-8: decode into scratch */
            char *o = scratch + used, *oend = scratch + FAST_SCRATCH;
            if ((size_t)(v - q) > (size_t)(oend - o)) {
                return NULL;
            }
            memcpy(o, q, (size_t)(v - q));
            vs = o;
            o += v - q;
            while (v < end && *v != quote) {
                size_t k, olen = 0;
                char ch[4];
                if (cls[*v] & C_ATTR || *v == '"' || *v == '\'') {
                    ch[0] = (char)*v;
                    olen = 1;
                    k = 1;
                } else if (*v == '&') {
                    /* libxml2 hands an '&' of a value on as "&#38;" when it does not replace
                     * entities: left to it */
                    k = entity(v, end, ch, &olen);
                    k = olen == 1 && ch[0] == '&' ? 0 : k;
                } else if (*v >= 0x80) {
                    k = utf8_char(v, end);
                    if (k) {
                        memcpy(ch, v, k);
                        olen = k;
                    }
                } else {
                    k = 0; /* '<' or a control byte (white space libxml2 normalizes) */
                }
                if (!k || olen > (size_t)(oend - o)) {
                    return NULL;
                }
                memcpy(o, ch, olen);
                o += olen;
                v += k;
            }
            ve = o;
            used = (size_t)(o - scratch);
        }
        if (v >= end) {
            return NULL;
        }
        p = v + 1; /* past the closing quote */
        if (p < end && !(cls[*p] & C_WS) && *p != '>' && *p != '/') {
            return NULL;
        }
        if (!strcmp(name, "xmlns")) {
            if (saw_xmlns || !plain_uri(vs, (size_t)(ve - vs))) {
                return NULL;
            }
            saw_xmlns = 1;
            continue; /* a namespace declaration, not an attribute */
        }
        for (int k = 0; k < n; k++) {
            if (!strcmp(anames[k], name)) {
                return NULL; /* repeated attribute */
            }
        }
        attrs[n * 5] = name;
        attrs[n * 5 + 1] = NULL;
        attrs[n * 5 + 2] = NULL;
        attrs[n * 5 + 3] = vs;
        attrs[n * 5 + 4] = ve;
        n++;
    }
}

/* Reads text from p up to the next '<', handing it to chars in pieces (line ends
 * normalized, references decoded). Returns the '<' or NULL. */
static const unsigned char *read_text(const unsigned char *p, const unsigned char *end,
                                      const struct ns_xml_fast_cb *cb, void *ctx)
{
    const unsigned char *s = p;
    while (p < end) {
        unsigned char c = *p;
        size_t k, olen;
        char ch[4];
        if (cls[c] & C_TEXT) {
            p++;
            continue;
        }
        if (c == '<') {
            break;
        }
        if (c >= 0x80) {
            if (!(k = utf8_char(p, end))) {
                return NULL;
            }
            p += k;
            continue;
        }
        if (c == ']') {
            if (end - p >= 3 && p[1] == ']' && p[2] == '>') {
                return NULL; /* "]]>" is not allowed in text */
            }
            p++;
            continue;
        }
        if (c == '&') {
            if (!(k = entity(p, end, ch, &olen))) {
                return NULL;
            }
        } else if (c == '\r') {
            k = p + 1 < end && p[1] == '\n' ? 2 : 1; /* CR LF and a lone CR read as LF */
            ch[0] = '\n';
            olen = 1;
        } else {
            return NULL; /* a control character */
        }
        if (p > s) {
            cb->chars(ctx, (const char *)s, (size_t)(p - s));
        }
        cb->chars(ctx, ch, olen);
        p += k;
        s = p;
    }
    if (p >= end) {
        return NULL; /* the input ends inside an element */
    }
    if (p > s) {
        cb->chars(ctx, (const char *)s, (size_t)(p - s));
    }
    return p;
}

int ns_xml_fast(const char *data, size_t len, const struct ns_xml_fast_cb *cb, void *ctx)
{
    const unsigned char *p = (const unsigned char *)data, *end = p + len;
    char names[FAST_DEPTH][FAST_NAME], anames[FAST_ATTRS][FAST_NAME], scratch[FAST_SCRATCH];
    const char *attrs[FAST_ATTRS * 5];
    int depth = 0;
    if (pthread_once(&cls_once, fill_classes) != 0) {
        return 0; /* libxml2 reads the event */
    }
    p = skip_ws(p, end);
    while (p < end) {
        if (*p != '<') {
            if (!depth || !(p = read_text(p, end, cb, ctx))) {
                return 0;
            }
            continue;
        }
        if (++p >= end) {
            return 0;
        }
        if (*p == '/') {
            /* an end tag: the name of the element open last */
            size_t nl;
            if (!depth) {
                return 0;
            }
            nl = strlen(names[depth - 1]);
            p++;
            if ((size_t)(end - p) < nl || memcmp(p, names[depth - 1], nl) ||
                (p + nl < end && (cls[p[nl]] & C_NAME || p[nl] == ':' || p[nl] >= 0x80))) {
                return 0;
            }
            p = skip_ws(p + nl, end);
            if (p >= end || *p != '>') {
                return 0;
            }
            p++;
            cb->end(ctx, names[--depth]);
        } else {
            /* a start tag (comments, CDATA, PIs and DOCTYPE fail the name) */
            int nattrs = 0, empty = 0;
            if (depth == FAST_DEPTH || !(p = read_name(p, end, names[depth])) ||
                !(p = read_attrs(p, end, anames, attrs, &nattrs, scratch, &empty))) {
                return 0;
            }
            cb->start(ctx, names[depth], nattrs, attrs);
            if (empty) {
                cb->end(ctx, names[depth]);
            } else {
                depth++;
            }
        }
        if (!depth) {
            return skip_ws(p, end) == end; /* the root is closed: only white space may follow */
        }
    }
    return 0;
}
