/*
 * canonical.c - the canonical event as one JSON object per line: what `ntlmscope ship`
 * sends, already normalized, and what the server reads back. The object carries
 * "ntlmscope": 1 and the canonical field names of DESIGN.md; times are ISO 8601 UTC.
 */
#include "ns_parser.h"

#include <jansson.h>
#include <stdint.h>
#include <string.h>

#define CANON_MARK "ntlmscope"

/* Writes s as a JSON string at p (room for 2 + 6 * strlen(s) bytes); returns the end. */
static char *put_json_text(char *p, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    *p++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') {
            *p++ = (char)c;
        } else if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else {
            memcpy(p, "\\u00", 4);
            p[4] = hex[c >> 4];
            p[5] = hex[c & 15];
            p += 6;
        }
    }
    *p++ = '"';
    return p;
}

/* Writes v in decimal at p (room for 20 bytes); returns the end. */
static char *put_int(char *p, int64_t v)
{
    char tmp[24], *q = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--q = '-';
    }
    memcpy(p, q, (size_t)(tmp + sizeof(tmp) - q));
    return p + (tmp + sizeof(tmp) - q);
}

int ns_event_to_json(const struct ns_event *ev, struct ns_buf *out)
{
    static const char head[] = "{\"" CANON_MARK "\":1";
    size_t room = sizeof(head) + 2, lens[NS_F_COUNT];
    char *start, *p;
    /* the most it can take: every text escaped as \u00XX */
    for (int f = 0; f < NS_F_COUNT; f++) {
        if (!ev->has[f]) {
            continue;
        }
        lens[f] =
            ns_fields[f].kind == NS_K_TEXT || ns_fields[f].kind == NS_K_HEX ? strlen(ev->s[f]) : 0;
        room += strlen(ns_fields[f].name) + 6 + (lens[f] > 6 ? lens[f] * 6 : 40);
    }
    if (!(start = p = ns_buf_space(out, room))) {
        return room > out->max ? NS_ETOOBIG : NS_ENOMEM;
    }
    memcpy(p, head, sizeof(head) - 1);
    p += sizeof(head) - 1;
    for (int f = 0; f < NS_F_COUNT; f++) {
        const char *name = ns_fields[f].name;
        size_t n;
        char tmp[40];
        if (!ev->has[f]) {
            continue;
        }
        n = strlen(name);
        *p++ = ',';
        *p++ = '"';
        memcpy(p, name, n);
        p += n;
        *p++ = '"';
        *p++ = ':';
        switch (ns_fields[f].kind) {
        case NS_K_TEXT:
        case NS_K_HEX:
            p = put_json_text(p, ev->s[f]);
            break;
        case NS_K_INT:
            p = put_int(p, ev->i[f]);
            break;
        case NS_K_BOOL:
            n = ev->i[f] ? 4 : 5;
            memcpy(p, ev->i[f] ? "true" : "false", n);
            p += n;
            break;
        case NS_K_TIME:
            ns_format_time(ev->i[f], tmp);
            p = put_json_text(p, tmp);
            break;
        }
    }
    *p++ = '}';
    *p++ = '\n';
    ns_buf_commit(out, (size_t)(p - start));
    return NS_OK;
}

int ns_json_is_canonical(const void *obj)
{
    return json_object_get((json_t *)obj, CANON_MARK) != NULL;
}

/* Fields without which an event cannot be stored once and only once. */
static const enum ns_field required[] = {NS_F_channel, NS_F_event_id, NS_F_time_created,
                                         NS_F_record_id, NS_F_computer};

int ns_event_from_json(const void *vobj, struct ns_event *ev, char *why, size_t whylen)
{
    json_t *obj = (json_t *)vobj, *v;
    const char *key;
    int next = 0; /* agents write the fields in order: try the one after the last first */
    ns_event_reset(ev);
    if (!json_is_integer(json_object_get(obj, CANON_MARK)) ||
        json_integer_value(json_object_get(obj, CANON_MARK)) != 1) {
        snprintf(why, whylen, "unsupported \"%s\" version", CANON_MARK);
        return NS_EPARSE;
    }
    json_object_foreach(obj, key, v)
    {
        int f, rc = NS_OK;
        int64_t n;
        if (!strcmp(key, CANON_MARK) || json_is_null(v)) {
            continue;
        }
        f = next < NS_F_COUNT && !strcmp(ns_fields[next].name, key) ? next : ns_field_by_name(key);
        next = f + 1;
        if (f < 0) {
            snprintf(why, whylen, "unknown field \"%.60s\"", key);
            return NS_EPARSE;
        }
        switch (ns_fields[f].kind) {
        case NS_K_TEXT:
            if (!json_is_string(v)) {
                goto type_error;
            }
            rc = ns_event_set_text(ev, (enum ns_field)f, json_string_value(v),
                                   json_string_length(v));
            break;
        case NS_K_INT:
        case NS_K_HEX:
            if (json_is_integer(v)) {
                n = json_integer_value(v);
            } else if (!json_is_string(v) || ns_parse_int(json_string_value(v), &n) != NS_OK) {
                goto type_error;
            }
            rc = ns_event_set_int(ev, (enum ns_field)f, n);
            break;
        case NS_K_BOOL:
            if (!json_is_boolean(v)) {
                goto type_error;
            }
            rc = ns_event_set_int(ev, (enum ns_field)f, json_is_true(v));
            break;
        case NS_K_TIME:
            if (!json_is_string(v) || ns_parse_time(json_string_value(v), &n) != NS_OK) {
                goto type_error;
            }
            rc = ns_event_set_int(ev, (enum ns_field)f, n);
            break;
        }
        if (rc != NS_OK) {
            snprintf(why, whylen, "event too large");
            return rc;
        }
        continue;
    type_error:
        snprintf(why, whylen, "field \"%s\" has the wrong type", key);
        return NS_EPARSE;
    }
    for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++) {
        if (!ev->has[required[k]]) {
            snprintf(why, whylen, "no %s", ns_fields[required[k]].name);
            return NS_EPARSE;
        }
    }
    return NS_OK;
}

/* ========================================================================================== */
/* Fast path: the exact text ns_event_to_json writes                                           */
/* ========================================================================================== */

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) {
            return -1;
        }
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

/* Reads the string at *pp (after its opening quote) up to its closing quote. Sets *s, *len:
 * into the text itself when it has no escape, else into tmp. Returns 0, or -1 for anything
 * the fast path leaves to jansson (invalid UTF-8, control bytes, \u0000, lone surrogates). */
static int fast_string(const char **pp, const char *end, struct ns_buf *tmp, const char **s,
                       size_t *len)
{
    const char *p = *pp, *start = p;
    int escaped = 0;
    ns_buf_reset(tmp);
    while (p < end && *p != '"') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20) {
            return -1;
        }
        if (c == '\\') {
            unsigned u, lo;
            char out[4];
            size_t n = 1;
            if (!escaped) {
                if (ns_buf_add(tmp, start, (size_t)(p - start)) != NS_OK) {
                    return -1;
                }
                escaped = 1;
            }
            if (p + 1 >= end) {
                return -1;
            }
            switch (p[1]) {
            case '"':
                out[0] = '"';
                break;
            case '\\':
                out[0] = '\\';
                break;
            case '/':
                out[0] = '/';
                break;
            case 'b':
                out[0] = '\b';
                break;
            case 'f':
                out[0] = '\f';
                break;
            case 'n':
                out[0] = '\n';
                break;
            case 'r':
                out[0] = '\r';
                break;
            case 't':
                out[0] = '\t';
                break;
            case 'u':
                if (end - p < 6 || hex4(p + 2, &u) || u == 0) {
                    return -1;
                }
                p += 4;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (end - p < 8 || p[2] != '\\' || p[3] != 'u' || hex4(p + 4, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF) {
                        return -1;
                    }
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else if (u >= 0xDC00 && u <= 0xDFFF) {
                    return -1;
                }
                n = ns_utf8_put(out, u);
                break;
            default:
                return -1;
            }
            if (ns_buf_add(tmp, out, n) != NS_OK) {
                return -1;
            }
            p += 2;
            continue;
        }
        {
            uint32_t cp;
            size_t n = c < 0x80 ? 1 : ns_utf8_len((const unsigned char *)p, (size_t)(end - p), &cp);
            if (!n) {
                return -1;
            }
            if (escaped && ns_buf_add(tmp, p, n) != NS_OK) {
                return -1;
            }
            p += n;
        }
    }
    if (p >= end) {
        return -1;
    }
    *s = escaped ? (tmp->data ? tmp->data : "") : start;
    *len = escaped ? tmp->len : (size_t)(p - start);
    *pp = p + 1;
    return 0;
}

int ns_event_from_canonical_text(const char *text, size_t n, struct ns_event *ev,
                                 struct ns_buf *tmp)
{
    static const char head[] = "{\"" CANON_MARK "\":1";
    const char *p = text, *end = text + n;
    int next = 0;
    while (end > p && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ')) {
        end--;
    }
    if ((size_t)(end - p) < sizeof(head) || memcmp(p, head, sizeof(head) - 1) || end[-1] != '}') {
        return -1;
    }
    p += sizeof(head) - 1;
    end--; /* the closing brace */
    ns_event_reset(ev);
    while (p < end) {
        const char *key, *s;
        size_t klen, len;
        int f, rc = NS_OK;
        int64_t v;
        if (p[0] != ',' || p + 1 >= end || p[1] != '"') {
            return -1;
        }
        key = p + 2;
        for (p = key; p < end && *p != '"' && *p != '\\'; p++) {
        }
        if (p + 1 >= end || *p != '"' || p[1] != ':') {
            return -1;
        }
        klen = (size_t)(p - key);
        p += 2;
        if (next < NS_F_COUNT && strlen(ns_fields[next].name) == klen &&
            !memcmp(ns_fields[next].name, key, klen)) {
            f = next;
        } else {
            char name[64];
            if (klen >= sizeof(name)) {
                return -1;
            }
            memcpy(name, key, klen);
            name[klen] = '\0';
            if ((f = ns_field_by_name(name)) < 0) {
                return -1;
            }
        }
        if (ev->has[f] || ev->s[f]) {
            return -1; /* twice: jansson names the fault */
        }
        next = f + 1;
        if (*p == '"') {
            p++;
            if (fast_string(&p, end, tmp, &s, &len)) {
                return -1;
            }
            switch (ns_fields[f].kind) {
            case NS_K_TEXT:
                rc = ns_event_set_text(ev, (enum ns_field)f, s, len);
                break;
            case NS_K_INT:
            case NS_K_HEX:
            case NS_K_TIME: {
                char num[48];
                if (len >= sizeof(num)) {
                    return -1;
                }
                memcpy(num, s, len);
                num[len] = '\0';
                if ((ns_fields[f].kind == NS_K_TIME ? ns_parse_time(num, &v)
                                                    : ns_parse_int(num, &v)) != NS_OK) {
                    return -1;
                }
                rc = ns_event_set_int(ev, (enum ns_field)f, v);
                break;
            }
            default:
                return -1;
            }
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            const char *d = p + (*p == '-');
            uint64_t u = 0;
            if (ns_fields[f].kind != NS_K_INT && ns_fields[f].kind != NS_K_HEX) {
                return -1;
            }
            if (d >= end || *d < '0' || *d > '9' ||
                (*d == '0' && d + 1 < end && d[1] >= '0' && d[1] <= '9')) {
                return -1;
            }
            for (; d < end && *d >= '0' && *d <= '9'; d++) {
                if (u > (UINT64_C(9223372036854775808) - (uint64_t)(*d - '0')) / 10) {
                    return -1; /* past 64 bits: jansson decides */
                }
                u = u * 10 + (uint64_t)(*d - '0');
            }
            if (*p == '-') {
                v = u == UINT64_C(9223372036854775808) ? INT64_MIN : -(int64_t)u;
            } else if (u > INT64_MAX) {
                return -1;
            } else {
                v = (int64_t)u;
            }
            p = d;
            rc = ns_event_set_int(ev, (enum ns_field)f, v);
        } else if (end - p >= 4 && !memcmp(p, "true", 4) && ns_fields[f].kind == NS_K_BOOL) {
            p += 4;
            rc = ns_event_set_int(ev, (enum ns_field)f, 1);
        } else if (end - p >= 5 && !memcmp(p, "false", 5) && ns_fields[f].kind == NS_K_BOOL) {
            p += 5;
            rc = ns_event_set_int(ev, (enum ns_field)f, 0);
        } else {
            return -1; /* null (never written) or anything else: jansson reads it */
        }
        if (rc != NS_OK) {
            return -1;
        }
    }
    for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++) {
        if (!ev->has[required[k]]) {
            return -1;
        }
    }
    return 0;
}
