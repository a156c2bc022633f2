/*
 * canonical.c - the canonical event as one JSON object per line: what `ntlmscope ship`
 * sends, already normalized, and what the server reads back. The object carries
 * "ntlmscope": 1 and the canonical field names of DESIGN.md; times are ISO 8601 UTC.
 */
#include "ns_parser.h"

#include <jansson.h>
#include <string.h>

#define CANON_MARK "ntlmscope"

static int put_json_text(struct ns_buf *b, const char *s)
{
    int rc = ns_buf_add(b, "\"", 1);
    for (; *s && rc == NS_OK; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rc = ns_buf_add(b, esc, 2);
        } else if (c < 0x20) {
            rc = ns_buf_printf(b, "\\u%04x", c);
        } else {
            rc = ns_buf_add(b, s, 1);
        }
    }
    return rc == NS_OK ? ns_buf_add(b, "\"", 1) : rc;
}

int ns_event_to_json(const struct ns_event *ev, struct ns_buf *out)
{
    int rc = ns_buf_adds(out, "{\"" CANON_MARK "\":1");
    for (int f = 0; f < NS_F_COUNT && rc == NS_OK; f++) {
        char tmp[40];
        if (!ev->has[f]) {
            continue;
        }
        rc = ns_buf_printf(out, ",\"%s\":", ns_fields[f].name);
        if (rc != NS_OK) {
            break;
        }
        switch (ns_fields[f].kind) {
        case NS_K_TEXT:
        case NS_K_HEX:
            rc = put_json_text(out, ev->s[f]);
            break;
        case NS_K_INT:
            rc = ns_buf_printf(out, "%lld", (long long)ev->i[f]);
            break;
        case NS_K_BOOL:
            rc = ns_buf_adds(out, ev->i[f] ? "true" : "false");
            break;
        case NS_K_TIME:
            ns_format_time(ev->i[f], tmp);
            rc = put_json_text(out, tmp);
            break;
        }
    }
    return rc == NS_OK ? ns_buf_adds(out, "}\n") : rc;
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
