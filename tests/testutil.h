/*
 * testutil.h - helpers shared by the unit tests: a sink that keeps copies of what a parser
 * delivered, and a builder for event XML.
 */
#ifndef NS_TESTUTIL_H
#define NS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ns_parser.h"

#define COLLECT_MAX 4096

/* Everything a parser delivered. */
struct collect {
    struct ns_event *ev; /* COLLECT_MAX copies */
    size_t n;            /* events delivered */
    size_t skipped;      /* non-NTLM events */
    size_t rejected;     /* rejected events */
    char where[64][64];  /* first rejections: where */
    char why[64][200];   /* first rejections: why */
};

static inline int collect_event(void *ctx, const struct ns_event *ev)
{
    struct collect *c = ctx;
    if (c->n < COLLECT_MAX) {
        assert_int_equal(ns_event_copy(&c->ev[c->n], ev), NS_OK);
    }
    c->n++;
    return NS_OK;
}

static inline void collect_skip(void *ctx, const struct ns_raw *raw)
{
    struct collect *c = ctx;
    (void)raw;
    c->skipped++;
}

static inline void collect_reject(void *ctx, const char *source, const char *where, const char *why)
{
    struct collect *c = ctx;
    (void)source;
    if (c->rejected < 64) {
        snprintf(c->where[c->rejected], sizeof(c->where[0]), "%s", where);
        snprintf(c->why[c->rejected], sizeof(c->why[0]), "%s", why);
    }
    c->rejected++;
}

static inline struct collect *collect_new(void)
{
    struct collect *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->ev = calloc(COLLECT_MAX, sizeof(*c->ev));
    assert_non_null(c->ev);
    for (size_t k = 0; k < COLLECT_MAX; k++) {
        ns_event_init(&c->ev[k]);
    }
    return c;
}

static inline void collect_free(struct collect *c)
{
    if (!c) {
        return;
    }
    for (size_t k = 0; k < COLLECT_MAX; k++) {
        ns_event_free(&c->ev[k]);
    }
    free(c->ev);
    free(c);
}

static inline struct ns_sink collect_sink(struct collect *c)
{
    struct ns_sink s = {c, collect_event, collect_skip, collect_reject};
    return s;
}

/* Parses a whole buffer in chunks of `chunk` bytes (0: all at once). Returns feed/finish rc. */
static inline int parse_buffer(struct collect *c, enum ns_format fmt, const void *data, size_t len,
                               size_t chunk)
{
    struct ns_parser *p = NULL;
    struct ns_sink sink = collect_sink(c);
    const char *d = data;
    int rc = ns_parser_new(&p, fmt, "test", &sink);
    assert_int_equal(rc, NS_OK);
    if (!chunk) {
        chunk = len ? len : 1;
    }
    for (size_t off = 0; off < len && rc == NS_OK; off += chunk) {
        rc = ns_parser_feed(p, d + off, len - off < chunk ? len - off : chunk);
    }
    if (rc == NS_OK) {
        rc = ns_parser_finish(p);
    }
    ns_parser_free(p);
    return rc;
}

/* Value of a text field, or NULL. */
static inline const char *S(const struct ns_event *ev, enum ns_field f)
{
    return ev->s[f];
}

/* Appends an <Event> to b: provider, channel (NULL for none), id, computer, record, time and
 * EventData pairs name/value ending with NULL (a NULL value gives <Data Name="x"/>). */
static inline void xml_event(struct ns_buf *b, const char *provider, const char *channel, int id,
                             const char *computer, long record, const char *time, ...)
{
    va_list ap;
    const char *name;
    ns_buf_printf(b,
                  "<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">"
                  "<System><Provider Name=\"%s\"/><EventID>%d</EventID><Version>0</Version>"
                  "<Level>4</Level><Task>0</Task><Opcode>0</Opcode>"
                  "<Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime=\"%s\"/>"
                  "<EventRecordID>%ld</EventRecordID><Correlation/>"
                  "<Execution ProcessID=\"720\" ThreadID=\"1364\"/>",
                  provider, id, time, record);
    if (channel) {
        ns_buf_printf(b, "<Channel>%s</Channel>", channel);
    }
    ns_buf_printf(b, "<Computer>%s</Computer><Security UserID=\"S-1-5-18\"/></System><EventData>",
                  computer);
    va_start(ap, time);
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        if (value) {
            ns_buf_printf(b, "<Data Name=\"%s\">%s</Data>", name, value);
        } else {
            ns_buf_printf(b, "<Data Name=\"%s\"/>", name);
        }
    }
    va_end(ap);
    ns_buf_adds(b, "</EventData></Event>\n");
}

#define NTLM_CH "Microsoft-Windows-NTLM/Operational"
#define NTLM_PROV "Microsoft-Windows-NTLM"
#define NETLOGON_PROV "Microsoft-Windows-Security-Netlogon"

#endif
