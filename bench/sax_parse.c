/*
 * sax_parse.c - the parse limit: libxml2's SAX2 push parser over event XML with no root
 * (fed a wrapper root), extracting every field of every event (System values and attributes,
 * EventData name/value pairs) into a reused record, storing nothing.
 *
 * usage: ns-bench-sax FILE      prints: events seconds
 */
#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct rec {
    char names[32][64];   /* field names */
    char values[32][512]; /* field values */
    int n;                /* fields in this event */
    char text[512];       /* text being collected */
    size_t tlen;          /* its length */
    int in_data;          /* collecting a value */
    long events;          /* events seen */
};

static void put(struct rec *r, const char *name, const char *v, size_t len)
{
    if (r->n >= 32) {
        return;
    }
    snprintf(r->names[r->n], sizeof(r->names[0]), "%s", name);
    if (len >= sizeof(r->values[0])) {
        len = sizeof(r->values[0]) - 1;
    }
    memcpy(r->values[r->n], v, len);
    r->values[r->n][len] = '\0';
    r->n++;
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri,
                     int nns, const xmlChar **ns, int nattr, int ndef, const xmlChar **attrs)
{
    struct rec *r = ctx;
    (void)prefix, (void)uri, (void)nns, (void)ns, (void)ndef;
    if (!strcmp((const char *)name, "Event")) {
        r->n = 0;
    }
    for (int a = 0; a < nattr; a++) {
        const char *vs = (const char *)attrs[a * 5 + 3], *ve = (const char *)attrs[a * 5 + 4];
        put(r, (const char *)attrs[a * 5], vs, (size_t)(ve - vs));
    }
    r->tlen = 0;
    r->in_data = 1;
}

static void on_end(void *ctx, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri)
{
    struct rec *r = ctx;
    (void)prefix, (void)uri;
    if (r->in_data && r->tlen) {
        put(r, (const char *)name, r->text, r->tlen);
    }
    r->in_data = 0;
    r->tlen = 0;
    if (!strcmp((const char *)name, "Event")) {
        r->events++;
    }
}

static void on_chars(void *ctx, const xmlChar *ch, int len)
{
    struct rec *r = ctx;
    if (r->in_data && r->tlen + (size_t)len < sizeof(r->text)) {
        memcpy(r->text + r->tlen, ch, (size_t)len);
        r->tlen += (size_t)len;
    }
}

int main(int argc, char **argv)
{
    static struct rec r;
    static char chunk[256 * 1024];
    xmlSAXHandler sax;
    xmlParserCtxtPtr ctxt;
    struct timespec t0, t1;
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : NULL;
    size_t n;
    if (!f) {
        fputs("usage: ns-bench-sax FILE\n", stderr);
        return 2;
    }
    memset(&sax, 0, sizeof(sax));
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_chars;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ctxt = xmlCreatePushParserCtxt(&sax, &r, "<r>", 3, NULL);
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_HUGE);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (xmlParseChunk(ctxt, chunk, (int)n, 0)) {
            fputs("parse error\n", stderr);
            return 1;
        }
    }
    xmlParseChunk(ctxt, "</r>", 4, 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%ld %.3f\n", r.events, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    xmlFreeParserCtxt(ctxt);
    fclose(f);
    return 0;
}
