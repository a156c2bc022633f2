/*
 * parser.c - format detection, the streaming parser front end, and reading whole files.
 */
#include "ns_parser.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The input formats: name and engine. */
static const struct {
    enum ns_format fmt; /* format */
    const char *name;   /* --format value */
} formats[] = {
    {NS_FMT_AUTO, "auto"}, {NS_FMT_XML, "xml"},     {NS_FMT_JSON, "json"},
    {NS_FMT_EVTX, "evtx"}, {NS_FMT_BATCH, "batch"},
};

int ns_format_from_name(const char *s)
{
    for (size_t k = 0; k < sizeof(formats) / sizeof(formats[0]); k++) {
        if (!strcmp(formats[k].name, s)) {
            return (int)formats[k].fmt;
        }
    }
    return -1;
}

const char *ns_format_name(enum ns_format f)
{
    for (size_t k = 0; k < sizeof(formats) / sizeof(formats[0]); k++) {
        if (formats[k].fmt == f) {
            return formats[k].name;
        }
    }
    return "?";
}

enum ns_format ns_format_detect(const unsigned char *p, size_t len)
{
    if (len >= 8 && !memcmp(p, "ElfFile", 8)) {
        return NS_FMT_EVTX;
    }
    if (len >= 8 && !memcmp(p, "NSBATCH1", 8)) {
        return NS_FMT_BATCH;
    }
    if (len >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        p += 3;
        len -= 3;
    }
    if (len >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF))) {
        return NS_FMT_XML; /* UTF-16 with a byte-order mark: PowerShell 5 redirects of XML */
    }
    for (size_t k = 0; k < len; k++) {
        unsigned char c = p[k];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0) {
            continue;
        }
        if (c == '{' || c == '[') {
            return NS_FMT_JSON;
        }
        return NS_FMT_XML;
    }
    return NS_FMT_XML;
}

int ns_deliver(const struct ns_sink *sink, const struct ns_raw *raw, struct ns_event *ev,
               const char *source, const char *where, long line)
{
    char why[200], loc[32];
    switch (ns_normalize(raw, ev, why, sizeof(why))) {
    case NS_V_STORE:
        return sink->on_event ? sink->on_event(sink->ctx, ev) : NS_OK;
    case NS_V_SKIP:
        if (sink->on_skip) {
            sink->on_skip(sink->ctx, raw);
        }
        return NS_OK;
    case NS_V_REJECT:
        if (sink->on_reject) {
            if (!where) {
                snprintf(loc, sizeof(loc), "line %ld", line);
                where = loc;
            }
            sink->on_reject(sink->ctx, source, where, why);
        }
        return NS_OK;
    }
    return NS_OK;
}

/* ========================================================================================== */
/* Streaming front end                                                                         */
/* ========================================================================================== */

struct ns_parser {
    enum ns_format fmt;     /* chosen format, NS_FMT_AUTO until the first bytes */
    const char *source;     /* input name */
    struct ns_sink sink;    /* where events go */
    struct ns_xml *xml;     /* XML engine when fmt is XML */
    struct ns_json *json;   /* JSON engine when fmt is JSON */
    struct ns_batch *batch; /* batch reader when fmt is BATCH */
    unsigned char head[8];  /* first bytes, kept until the format is known */
    size_t nhead;           /* bytes in head[] */
};

int ns_parser_new(struct ns_parser **out, enum ns_format fmt, const char *source,
                  const struct ns_sink *sink)
{
    struct ns_parser *p;
    if (fmt == NS_FMT_EVTX) {
        return NS_EINVAL;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        return NS_ENOMEM;
    }
    p->fmt = fmt;
    p->source = source;
    p->sink = *sink;
    *out = p;
    return NS_OK;
}

static int start_engine(struct ns_parser *p)
{
    if (p->fmt == NS_FMT_AUTO) {
        p->fmt = ns_format_detect(p->head, p->nhead);
    }
    if (p->fmt == NS_FMT_EVTX) {
        return NS_EINVAL;
    }
    if (p->fmt == NS_FMT_JSON) {
        return ns_json_new(&p->json, p->source, &p->sink);
    }
    if (p->fmt == NS_FMT_BATCH) {
        return ns_batch_new(&p->batch, p->source, &p->sink);
    }
    return ns_xml_new(&p->xml, p->source, &p->sink);
}

static int engine_feed(struct ns_parser *p, const void *data, size_t len)
{
    return p->json    ? ns_json_feed(p->json, data, len)
           : p->batch ? ns_batch_feed(p->batch, data, len)
                      : ns_xml_feed(p->xml, data, len);
}

int ns_parser_feed(struct ns_parser *p, const void *data, size_t len)
{
    int rc;
    if (!p->xml && !p->json && !p->batch) {
        size_t take = sizeof(p->head) - p->nhead;
        if (take > len) {
            take = len;
        }
        memcpy(p->head + p->nhead, data, take);
        p->nhead += take;
        data = (const char *)data + take;
        len -= take;
        if (p->nhead < sizeof(p->head)) {
            return NS_OK;
        }
        if ((rc = start_engine(p)) != NS_OK) {
            return rc;
        }
        if ((rc = engine_feed(p, p->head, p->nhead)) != NS_OK) {
            return rc;
        }
    }
    return len ? engine_feed(p, data, len) : NS_OK;
}

int ns_parser_finish(struct ns_parser *p)
{
    int rc;
    if (!p->xml && !p->json && !p->batch) {
        if (p->nhead == 0) {
            return NS_OK; /* empty input */
        }
        if ((rc = start_engine(p)) != NS_OK) {
            return rc;
        }
        if ((rc = engine_feed(p, p->head, p->nhead)) != NS_OK) {
            return rc;
        }
    }
    return p->json    ? ns_json_finish(p->json)
           : p->batch ? ns_batch_finish(p->batch)
                      : ns_xml_finish(p->xml);
}

enum ns_format ns_parser_format(const struct ns_parser *p)
{
    return p->fmt;
}

uint64_t ns_parser_rejects(const struct ns_parser *p)
{
    return p->json    ? ns_json_rejects(p->json)
           : p->xml   ? ns_xml_rejects(p->xml)
           : p->batch ? ns_batch_rejects(p->batch)
                      : 0;
}

void ns_parser_free(struct ns_parser *p)
{
    if (!p) {
        return;
    }
    ns_xml_free(p->xml);
    ns_json_free(p->json);
    ns_batch_free(p->batch);
    free(p);
}

/* ========================================================================================== */
/* Files                                                                                       */
/* ========================================================================================== */

#define READ_CHUNK (256u << 10)

/* Copies standard input into a temporary file (EVTX needs random access). */
static int spool_stdin(const unsigned char *head, size_t nhead, char *tmpl, char *err,
                       size_t errlen)
{
    char buf[65536];
    int fd = mkstemp(tmpl);
    ssize_t n;
    FILE *f;
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
        return NS_EIO;
    }
    f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmpl);
        snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno));
        return NS_EIO;
    }
    if (fwrite(head, 1, nhead, f) != nhead) {
        goto fail;
    }
    while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0) {
        if (fwrite(buf, 1, (size_t)n, f) != (size_t)n) {
            goto fail;
        }
    }
    if (n < 0 || fclose(f) != 0) {
        unlink(tmpl);
        snprintf(err, errlen, "cannot read standard input: %s", strerror(errno));
        return NS_EIO;
    }
    return NS_OK;
fail:
    fclose(f);
    unlink(tmpl);
    snprintf(err, errlen, "cannot write a temporary file: %s", strerror(errno));
    return NS_EIO;
}

int ns_parse_path(const char *path, enum ns_format fmt, const struct ns_sink *sink,
                  ns_progress_fn progress, void *progress_ctx, char *err, size_t errlen)
{
    int is_stdin = !strcmp(path, "-");
    const char *source = is_stdin ? "<stdin>" : path;
    FILE *f = NULL;
    struct ns_parser *p = NULL;
    unsigned char *chunk = NULL;
    unsigned char head[8];
    size_t nhead = 0, n;
    uint64_t total = 0, done = 0;
    struct stat st;
    int rc = NS_OK;

    err[0] = '\0';
    if (is_stdin) {
        f = stdin;
    } else {
        f = fopen(path, "rb");
        if (!f) {
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
            return NS_EIO;
        }
        if (fstat(fileno(f), &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                fclose(f);
                snprintf(err, errlen, "%s: is a directory", path);
                return NS_EIO;
            }
            total = (uint64_t)st.st_size;
        }
    }
    nhead = fread(head, 1, sizeof(head), f);
    if (ferror(f)) {
        snprintf(err, errlen, "%s: cannot read: %s", source, strerror(errno));
        rc = NS_EIO;
        goto out;
    }
    if (fmt == NS_FMT_AUTO) {
        fmt = ns_format_detect(head, nhead);
    }
    if (fmt == NS_FMT_EVTX) {
        if (is_stdin) {
            char tmpl[] = "/tmp/ntlmscope-stdin-XXXXXX";
            if ((rc = spool_stdin(head, nhead, tmpl, err, errlen)) != NS_OK) {
                goto out;
            }
            rc = ns_parse_evtx_file(tmpl, source, sink, progress, progress_ctx, err, errlen);
            unlink(tmpl);
        } else {
            rc = ns_parse_evtx_file(path, source, sink, progress, progress_ctx, err, errlen);
        }
        goto out;
    }
    if ((rc = ns_parser_new(&p, fmt, source, sink)) != NS_OK) {
        goto out;
    }
    if (!(chunk = malloc(READ_CHUNK))) {
        rc = NS_ENOMEM;
        goto out;
    }
    rc = ns_parser_feed(p, head, nhead);
    done = nhead;
    while (rc == NS_OK && (n = fread(chunk, 1, READ_CHUNK, f)) > 0) {
        rc = ns_parser_feed(p, chunk, n);
        done += n;
        if (progress) {
            progress(progress_ctx, done, total);
        }
    }
    if (rc == NS_OK && ferror(f)) {
        snprintf(err, errlen, "%s: read error after %llu bytes: %s", source,
                 (unsigned long long)done, strerror(errno));
        rc = NS_EIO;
    }
    if (rc == NS_OK) {
        rc = ns_parser_finish(p);
    }
    if (rc == NS_OK && ns_parser_rejects(p)) {
        rc = NS_EPARSE;
    }
    if (rc == NS_EINVAL) {
        snprintf(err, errlen, "%s: EVTX data must be read as a file", source);
    }
out:
    free(chunk);
    ns_parser_free(p);
    if (f && !is_stdin) {
        fclose(f);
    }
    return rc;
}
