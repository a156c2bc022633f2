/*
 * ns_parser.h - reading NTLM events from event XML, JSON and EVTX, streamed in chunks.
 *
 * A parser is fed bytes as they arrive (a file read in chunks, an HTTP body) and calls the
 * sink once per event: on_event for an NTLM event (normalized), on_skip for an event of
 * another channel or provider, on_reject for an event that cannot be read, with where it
 * starts. A bad event never stops the events around it from being delivered.
 */
#ifndef NS_PARSER_H
#define NS_PARSER_H

#include "ns_event.h"

enum ns_format {
    NS_FMT_AUTO, /* decide from the first bytes */
    NS_FMT_XML,  /* event XML: <Event>, <Events>, or <Event> elements with no root */
    NS_FMT_JSON, /* JSON: one object, an array, or one object per line */
    NS_FMT_EVTX, /* Windows .evtx */
    NS_FMT_BATCH /* ntlmscope's binary batch, as agents spool and send it (batch.c) */
};

/* Returns the format named by s ("auto", "xml", "json", "evtx", "batch"), or -1. */
int ns_format_from_name(const char *s);
const char *ns_format_name(enum ns_format f);
/* Guesses the format from the first bytes of the input (at least 8 wanted). */
enum ns_format ns_format_detect(const unsigned char *p, size_t len);

/* Where events go. Every callback is optional. */
struct ns_sink {
    void *ctx; /* passed to every callback */
    /* An NTLM event. The event is only valid during the call. Return NS_OK to go on, any
     * other code to stop the parser, which then returns that code. */
    int (*on_event)(void *ctx, const struct ns_event *ev);
    /* An event that is not an NTLM event (another channel or provider). */
    void (*on_skip)(void *ctx, const struct ns_raw *raw);
    /* An event that could not be read or stored: source is the input's name, where says
     * where in it ("line 12", "record 7"), why says what is wrong. */
    void (*on_reject)(void *ctx, const char *source, const char *where, const char *why);
};

struct ns_parser;

/*
 * Creates a streaming parser for XML or JSON (NS_FMT_AUTO decides on the first bytes fed;
 * EVTX cannot be streamed, see ns_parse_evtx_file). source names the input in messages.
 * Returns NS_OK and sets *out; free it with ns_parser_free().
 */
int ns_parser_new(struct ns_parser **out, enum ns_format fmt, const char *source,
                  const struct ns_sink *sink);
/* Feeds the next len bytes. Returns NS_OK, or the code a sink callback stopped with, or
 * NS_EINVAL when the data turns out to be EVTX. */
int ns_parser_feed(struct ns_parser *p, const void *data, size_t len);
/* Ends the input: a half-read event at the end is rejected as truncated. Returns NS_OK or
 * the code a sink callback stopped with. */
int ns_parser_finish(struct ns_parser *p);
/* The format in use (after detection). */
enum ns_format ns_parser_format(const struct ns_parser *p);
/* Number of events the parser rejected itself (malformed, truncated). */
uint64_t ns_parser_rejects(const struct ns_parser *p);
void ns_parser_free(struct ns_parser *p);

/* Progress of a file being read: bytes done out of total (total 0 when unknown). */
typedef void (*ns_progress_fn)(void *ctx, uint64_t done, uint64_t total);

/*
 * Reads one file ("-" for standard input) in the given format and delivers its events to
 * the sink. Returns NS_OK; NS_EIO when the file cannot be read (err says why); NS_EPARSE
 * when events were rejected (each already reported to on_reject); or a sink's stop code.
 */
int ns_parse_path(const char *path, enum ns_format fmt, const struct ns_sink *sink,
                  ns_progress_fn progress, void *progress_ctx, char *err, size_t errlen);

/* Reads an .evtx file with libevtx; each record's XML goes through the XML event parser.
 * Returns like ns_parse_path. */
int ns_parse_evtx_file(const char *path, const char *source, const struct ns_sink *sink,
                       ns_progress_fn progress, void *progress_ctx, char *err, size_t errlen);

/* ------------------------------------------------------------------------------------------ */
/* Internal to collector/: the per-format engines                                              */
/* ------------------------------------------------------------------------------------------ */

struct ns_xml;
int ns_xml_new(struct ns_xml **out, const char *source, const struct ns_sink *sink);
int ns_xml_feed(struct ns_xml *x, const char *data, size_t len);
int ns_xml_finish(struct ns_xml *x);
uint64_t ns_xml_rejects(const struct ns_xml *x);
/* Parses one complete <Event> element (UTF-8) and delivers it; where names its place (NULL:
 * "line N" from first_line). data may be modified (forbidden characters replaced). */
int ns_xml_parse_event(struct ns_xml *x, char *data, size_t len, const char *where,
                       long first_line);
void ns_xml_free(struct ns_xml *x);
/* Tests and benchmarks: fast 0 makes every event go through libxml2 (default 1: the scanner of
 * xmlfast.c first). ns_xml_fast_events counts the events the scanner read. */
void ns_xml_set_fast(struct ns_xml *x, int fast);
uint64_t ns_xml_fast_events(const struct ns_xml *x);

/* What the scanner of xmlfast.c calls, as libxml2's SAX2 callbacks would: start with the
 * element's name and its attributes in libxml2's layout (five pointers each: local name,
 * prefix, URI, value, value end; prefix and URI NULL), end with the name, chars with text. */
struct ns_xml_fast_cb {
    void (*start)(void *ctx, const char *name, int nattrs, const char **attrs);
    void (*end)(void *ctx, const char *name);
    void (*chars)(void *ctx, const char *s, size_t n);
};
/* Reads one element (data[0..len), white space around it allowed) with the callbacks. Returns
 * 1 when it read all of it exactly as libxml2 would; 0 when it gave up (malformed, or a
 * construct it leaves to libxml2), in which case the callbacks made are to be forgotten. */
int ns_xml_fast(const char *data, size_t len, const struct ns_xml_fast_cb *cb, void *ctx);

struct ns_json;
int ns_json_new(struct ns_json **out, const char *source, const struct ns_sink *sink);
int ns_json_feed(struct ns_json *j, const char *data, size_t len);
int ns_json_finish(struct ns_json *j);
uint64_t ns_json_rejects(const struct ns_json *j);
void ns_json_free(struct ns_json *j);

struct ns_batch;
int ns_batch_new(struct ns_batch **out, const char *source, const struct ns_sink *sink);
int ns_batch_feed(struct ns_batch *b, const char *data, size_t len);
int ns_batch_finish(struct ns_batch *b);
uint64_t ns_batch_rejects(const struct ns_batch *b);
void ns_batch_free(struct ns_batch *b);

/* ------------------------------------------------------------------------------------------ */
/* Canonical events in a binary batch (what the agent ships: batch.c)                          */
/* ------------------------------------------------------------------------------------------ */

/* Writes canonical events as one batch: each text once, then referred to by number. */
struct ns_batch_writer {
    struct ns_buf out;       /* the batch so far; after ns_batch_end, all of it */
    struct ns_buf body;      /* scratch: the event being written */
    struct ns_textset texts; /* the texts written (used: how many), numbered in order */
    uint64_t events;         /* events written */
};
/* An empty batch of at most max bytes. */
void ns_batch_writer_init(struct ns_batch_writer *w, size_t max);
/* Appends an event. Returns NS_OK, NS_ETOOBIG (the batch is full: end it and start another)
 * or NS_ENOMEM; on failure the batch holds exactly the events before. */
int ns_batch_put(struct ns_batch_writer *w, const struct ns_event *ev);
/* Ends the batch: out then holds all of it. Returns NS_OK or NS_ETOOBIG. */
int ns_batch_end(struct ns_batch_writer *w);
/* Empties it for the next batch, keeping its memory. */
void ns_batch_writer_reset(struct ns_batch_writer *w);
void ns_batch_writer_free(struct ns_batch_writer *w);

/* ------------------------------------------------------------------------------------------ */
/* Canonical events as JSON lines (what agents shipped before the batch; still read)          */
/* ------------------------------------------------------------------------------------------ */

/* Appends ev as one JSON object and a newline: {"ntlmscope":1, "channel": ..., ...}. Returns
 * NS_OK or NS_ETOOBIG/NS_ENOMEM. */
int ns_event_to_json(const struct ns_event *ev, struct ns_buf *out);
/* Reads a canonical event from the exact text ns_event_to_json writes (one object, no
 * spaces), without building a JSON tree; tmp is scratch for unescaped text. Returns 0, or -1
 * when the text is anything else (invalid, or valid JSON written otherwise): the caller then
 * decodes it with jansson, which gives the same event or names the fault. */
int ns_event_from_canonical_text(const char *text, size_t n, struct ns_event *ev,
                                 struct ns_buf *tmp);
/* 1 when a decoded JSON object (json_t *) is a canonical event. */
int ns_json_is_canonical(const void *obj);
/* Reads a canonical event from a decoded JSON object (json_t *). Returns NS_OK, or
 * NS_EPARSE with why naming the field at fault. */
int ns_event_from_json(const void *obj, struct ns_event *ev, char *why, size_t whylen);

/* Normalizes a raw event and hands it to the sink (shared by every engine). A rejection is
 * reported at where, or at "line N" (line) when where is NULL. */
int ns_deliver(const struct ns_sink *sink, const struct ns_raw *raw, struct ns_event *ev,
               const char *source, const char *where, long line);

#endif
