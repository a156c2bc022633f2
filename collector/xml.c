/*
 * xml.c - event XML, streamed: decodes UTF-8 / UTF-16 (with or without a byte-order mark),
 * finds each <Event> element in the stream (under an <Events> root or with no root at all,
 * as wevtutil prints them) and parses it: with the scanner of xmlfast.c when it can read the
 * event exactly as libxml2 would, else with libxml2's SAX2 push parser; both call the same
 * handlers below.
 *
 * Splitting the stream into events first means a malformed or truncated event is rejected
 * with its line number while every event around it is still read, and an event that never
 * ends cannot make the parser buffer the rest of the file. libxml2 runs with XML_PARSE_NONET
 * and without XML_PARSE_NOENT; a DOCTYPE inside an event is refused.
 */
#include "ns_parser.h"

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <string.h>

#define EVENT_MAX_BYTES (2u << 20) /* one <Event> element, UTF-8 */
#define TEXT_MAX_BYTES (1u << 20)  /* one element's text */
#define DECL_MAX_BYTES 256         /* an <?xml ...?> declaration we look into */

enum enc { ENC_UNKNOWN, ENC_UTF8, ENC_UTF16LE, ENC_UTF16BE };

/* Where the SAX handler is inside the current event. */
enum sect { SECT_NONE, SECT_SYSTEM, SECT_EVENTDATA, SECT_USERDATA, SECT_RENDERING };

struct ns_xml {
    const char *source;      /* input name for messages */
    struct ns_sink sink;     /* where events go */
    xmlParserCtxtPtr ctxt;   /* reused SAX2 push parser */
    enum enc enc;            /* input encoding, decided on the first bytes */
    char declared_enc[40];   /* encoding="..." of an 8-bit <?xml?> declaration, or "" */
    unsigned char carry[4];  /* UTF-16 bytes not yet decoded */
    size_t ncarry;           /* bytes in carry[] */
    unsigned high_surrogate; /* pending UTF-16 high surrogate, or 0 */
    struct ns_buf pend;      /* decoded UTF-8 not yet consumed */
    size_t pos;              /* read offset in pend */
    long line;               /* line number at pend[pos] */
    int inside;              /* 1 while pend[ev_start..] is an unfinished event */
    size_t ev_start;         /* offset of "<Event" in pend while inside */
    size_t cur;              /* where the search for the next tag goes on, while inside */
    long ev_line;            /* line of that "<Event" */
    int skipping;            /* 1 while skipping an oversized event up to its end tag */
    int no_fast;             /* 1: every event through libxml2 (tests, benchmarks) */
    uint64_t fast_events;    /* events the scanner of xmlfast.c read */
    uint64_t events_seen;    /* <Event> elements found */
    uint64_t rejects;        /* events rejected by this engine */
    uint64_t bytes_in;       /* bytes fed */
    int saw_content;         /* non-blank input was seen */
    int stop_rc;             /* a sink callback's stop code, or NS_OK */
    /* per-event SAX state */
    struct ns_raw raw;   /* fields of the event being parsed */
    struct ns_event ev;  /* normalized event handed to the sink */
    int depth;           /* element depth below <Event> (Event = 1) */
    enum sect sect;      /* section of the event */
    int sys_slot;        /* NS_S_* slot of the current <System> child, or -1 */
    int in_message;      /* inside RenderingInfo/Message */
    char data_name[128]; /* Name of the current <Data>, or the element name */
    int data_open;       /* a data element is open and collects text */
    int data_index;      /* unnamed <Data> counter */
    struct ns_buf text;  /* text of the current element */
    int text_too_big;    /* the element's text passed TEXT_MAX_BYTES */
    char errmsg[256];    /* first libxml2 error of the event */
    int errcode;         /* its libxml2 code */
    long errline;        /* its line, relative to the event */
};

/* ========================================================================================== */
/* SAX2 callbacks                                                                              */
/* ========================================================================================== */

/* <System> children whose text is a value. */
static const struct {
    const char *name; /* element local name */
    enum ns_sys slot; /* raw slot */
} sys_text[] = {
    {"EventID", NS_S_EVENT_ID},
    {"Version", NS_S_VERSION},
    {"Level", NS_S_LEVEL},
    {"Task", NS_S_TASK},
    {"Opcode", NS_S_OPCODE},
    {"Keywords", NS_S_KEYWORDS},
    {"EventRecordID", NS_S_RECORD_ID},
    {"Channel", NS_S_CHANNEL},
    {"Computer", NS_S_COMPUTER},
};

/* <System> attributes that are values: element, attribute, slot. */
static const struct {
    const char *elem; /* element local name */
    const char *attr; /* attribute local name */
    enum ns_sys slot; /* raw slot */
} sys_attr[] = {
    {"Provider", "Name", NS_S_PROVIDER},       {"Provider", "Guid", NS_S_PROVIDER_GUID},
    {"TimeCreated", "SystemTime", NS_S_TIME},  {"Correlation", "ActivityID", NS_S_ACTIVITY_ID},
    {"Execution", "ProcessID", NS_S_EXEC_PID}, {"Execution", "ThreadID", NS_S_EXEC_TID},
    {"Security", "UserID", NS_S_USER_SID},
};

static void store_fail(struct ns_xml *x, int rc)
{
    if (!x->errmsg[0]) {
        snprintf(x->errmsg, sizeof(x->errmsg), "event too large (%s)", ns_rc_str(rc));
    }
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                     int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
                     int nb_defaulted, const xmlChar **attrs)
{
    struct ns_xml *x = ctx;
    const char *name = (const char *)localname;
    (void)prefix;
    (void)uri;
    (void)nb_namespaces;
    (void)namespaces;
    (void)nb_defaulted;
    x->depth++;
    ns_buf_reset(&x->text);
    x->text_too_big = 0;
    if (x->depth == 1) {
        return; /* <Event> */
    }
    if (x->depth == 2) {
        /* the first letter tells the sections apart; strcmp confirms */
        x->sect = name[0] == 'S' && !strcmp(name, "System")          ? SECT_SYSTEM
                  : name[0] == 'E' && !strcmp(name, "EventData")     ? SECT_EVENTDATA
                  : name[0] == 'U' && !strcmp(name, "UserData")      ? SECT_USERDATA
                  : name[0] == 'R' && !strcmp(name, "RenderingInfo") ? SECT_RENDERING
                                                                     : SECT_NONE;
        return;
    }
    if (x->sect == SECT_SYSTEM && x->depth == 3) {
        x->sys_slot = -1;
        for (size_t k = 0; k < sizeof(sys_text) / sizeof(sys_text[0]); k++) {
            if (name[0] == sys_text[k].name[0] && !strcmp(name, sys_text[k].name)) {
                x->sys_slot = (int)sys_text[k].slot;
                break;
            }
        }
        for (int a = 0; a < nb_attributes && x->sys_slot < 0; a++) {
            const char *an = (const char *)attrs[a * 5];
            const char *vs = (const char *)attrs[a * 5 + 3], *ve = (const char *)attrs[a * 5 + 4];
            for (size_t k = 0; k < sizeof(sys_attr) / sizeof(sys_attr[0]); k++) {
                if (name[0] == sys_attr[k].elem[0] && an[0] == sys_attr[k].attr[0] &&
                    !strcmp(name, sys_attr[k].elem) && !strcmp(an, sys_attr[k].attr)) {
                    int rc = ns_raw_set_sys(&x->raw, sys_attr[k].slot, vs, (size_t)(ve - vs));
                    if (rc != NS_OK) {
                        store_fail(x, rc);
                    }
                }
            }
        }
        return;
    }
    if (x->sect == SECT_EVENTDATA && x->depth == 3) {
        x->data_open = 1;
        x->data_name[0] = '\0';
        for (int a = 0; a < nb_attributes; a++) {
            if (!strcmp((const char *)attrs[a * 5], "Name")) {
                const char *vs = (const char *)attrs[a * 5 + 3];
                size_t n = (size_t)((const char *)attrs[a * 5 + 4] - vs);
                if (n >= sizeof(x->data_name)) {
                    n = sizeof(x->data_name) - 1;
                }
                memcpy(x->data_name, vs, n);
                x->data_name[n] = '\0';
            }
        }
        if (!x->data_name[0]) {
            if (!strcmp(name, "Data")) {
                snprintf(x->data_name, sizeof(x->data_name), "param%d", ++x->data_index);
            } else {
                snprintf(x->data_name, sizeof(x->data_name), "%s", name);
            }
        }
        return;
    }
    if (x->sect == SECT_USERDATA && x->depth >= 4) {
        /* leaves of <UserData><Wrapper>...: the element name is the field name */
        x->data_open = 1;
        snprintf(x->data_name, sizeof(x->data_name), "%s", name);
        return;
    }
    if (x->sect == SECT_RENDERING && x->depth == 3) {
        x->in_message = !strcmp(name, "Message");
    }
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
    struct ns_xml *x = ctx;
    int rc = NS_OK;
    (void)localname;
    (void)prefix;
    (void)uri;
    if (x->text_too_big) {
        snprintf(x->errmsg, sizeof(x->errmsg), "element <%s> text over %u bytes",
                 (const char *)localname, TEXT_MAX_BYTES);
    }
    if (x->sect == SECT_SYSTEM && x->depth == 3 && x->sys_slot >= 0) {
        rc = ns_raw_set_sys(&x->raw, (enum ns_sys)x->sys_slot, x->text.data ? x->text.data : "",
                            x->text.len);
        x->sys_slot = -1;
    } else if (x->data_open) {
        rc =
            ns_raw_add_data(&x->raw, x->data_name, strlen(x->data_name), x->text.data, x->text.len);
        x->data_open = 0;
    } else if (x->in_message && x->depth == 3) {
        rc = ns_raw_set_sys(&x->raw, NS_S_MESSAGE, x->text.data ? x->text.data : "", x->text.len);
        x->in_message = 0;
    }
    if (rc != NS_OK) {
        store_fail(x, rc);
    }
    if (x->depth == 2) {
        x->sect = SECT_NONE;
    }
    ns_buf_reset(&x->text);
    x->depth--;
}

static void on_chars(void *ctx, const xmlChar *ch, int len)
{
    struct ns_xml *x = ctx;
    if (len <= 0 || x->text_too_big) {
        return;
    }
    if (!(x->data_open || x->in_message || (x->sect == SECT_SYSTEM && x->sys_slot >= 0))) {
        return;
    }
    if (ns_buf_add(&x->text, ch, (size_t)len) != NS_OK) {
        x->text_too_big = 1;
    }
}

static void on_serror(void *ctx, xmlErrorPtr err)
{
    struct ns_xml *x = ctx;
    size_t n;
    if (!err || err->level < XML_ERR_ERROR || x->errmsg[0]) {
        return;
    }
    snprintf(x->errmsg, sizeof(x->errmsg), "%s", err->message ? err->message : "XML error");
    n = strlen(x->errmsg);
    while (n && (x->errmsg[n - 1] == '\n' || x->errmsg[n - 1] == ' ')) {
        x->errmsg[--n] = '\0';
    }
    x->errline = err->line;
    x->errcode = err->code;
}

/* A DOCTYPE would allow entity declarations: refused outright. */
static void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *eid,
                               const xmlChar *sid)
{
    struct ns_xml *x = ctx;
    (void)name;
    (void)eid;
    (void)sid;
    if (!x->errmsg[0]) {
        snprintf(x->errmsg, sizeof(x->errmsg), "DOCTYPE not allowed in event XML");
    }
    xmlStopParser(x->ctxt);
}

static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name)
{
    (void)ctx;
    return xmlGetPredefinedEntity(name); /* &amp; &lt; ... only; nothing is ever fetched */
}

/* ========================================================================================== */
/* One event                                                                                   */
/* ========================================================================================== */

/* Windows writes characters XML 1.0 forbids (control bytes, &#3;): replaces each with '?'
 * in place, so the event reads with that character marked instead of being lost. Returns the
 * number of replacements. */
static size_t sanitize(char *p, size_t len)
{
    size_t fixed = 0;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)p[k];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            p[k] = '?';
            fixed++;
        } else if (c == '&' && k + 2 < len && p[k + 1] == '#') {
            size_t j = k + 2;
            int hex = p[j] == 'x';
            unsigned long v = 0;
            j += (size_t)hex;
            while (j < len && j < k + 12 && p[j] != ';') {
                int d = p[j] >= '0' && p[j] <= '9'          ? p[j] - '0'
                        : hex && p[j] >= 'a' && p[j] <= 'f' ? p[j] - 'a' + 10
                        : hex && p[j] >= 'A' && p[j] <= 'F' ? p[j] - 'A' + 10
                                                            : -1;
                if (d < 0) {
                    break;
                }
                v = v * (hex ? 16 : 10) + (unsigned long)d;
                j++;
            }
            if (j < len && p[j] == ';' &&
                ((v < 0x20 && v != 9 && v != 10 && v != 13) || (v >= 0xD800 && v <= 0xDFFF) ||
                 v == 0xFFFE || v == 0xFFFF || v > 0x10FFFF)) {
                p[k] = '?';
                fixed++;
            }
        }
    }
    return fixed;
}

/* The scanner's callbacks: libxml2's, called the same way. */
static void fast_start(void *ctx, const char *name, int nattrs, const char **attrs)
{
    on_start(ctx, (const xmlChar *)name, NULL, NULL, 0, NULL, nattrs, 0, (const xmlChar **)attrs);
}

static void fast_end(void *ctx, const char *name)
{
    on_end(ctx, (const xmlChar *)name, NULL, NULL);
}

static void fast_chars(void *ctx, const char *s, size_t n)
{
    on_chars(ctx, (const xmlChar *)s, (int)n);
}

static const struct ns_xml_fast_cb fast_cb = {fast_start, fast_end, fast_chars};

/* Clears the per-event state before a parse. */
static void event_reset(struct ns_xml *x)
{
    ns_raw_reset(&x->raw);
    x->depth = 0;
    x->sect = SECT_NONE;
    x->sys_slot = -1;
    x->in_message = 0;
    x->data_open = 0;
    x->data_index = 0;
    x->errmsg[0] = '\0';
    x->errline = 0;
    x->errcode = 0;
    ns_buf_reset(&x->text);
    x->text_too_big = 0;
}

/* One parse of one event with the scanner of xmlfast.c: returns 1 when it read the event (its
 * fields then stand, or its error when a field was refused), 0 when libxml2 is to read it. */
static int parse_fast(struct ns_xml *x, const char *data, size_t len)
{
    if (x->no_fast || x->declared_enc[0] || len > INT32_MAX) {
        return 0;
    }
    event_reset(x);
    if (!ns_xml_fast(data, len, &fast_cb, x)) {
        return 0;
    }
    x->fast_events++;
    return 1;
}

/* One parse of one event with libxml2; returns 1 when it was well-formed. */
static int parse_once(struct ns_xml *x, const char *data, size_t len)
{
    const char *enc = x->declared_enc[0] ? x->declared_enc : "UTF-8";
    int perr;
    event_reset(x);
    if (xmlCtxtResetPush(x->ctxt, NULL, 0, NULL, enc) != 0) {
        snprintf(x->errmsg, sizeof(x->errmsg), "out of memory");
        return 0;
    }
    xmlCtxtUseOptions(x->ctxt, XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT);
    x->ctxt->_private = x;
    perr = xmlParseChunk(x->ctxt, data, (int)len, 1);
    return perr == 0 && x->ctxt->wellFormed && !x->errmsg[0];
}

int ns_xml_parse_event(struct ns_xml *x, char *data, size_t len, const char *where, long first_line)
{
    char loc[64];
    int ok = parse_fast(x, data, len) ? !x->errmsg[0] : parse_once(x, data, len);
    if (!ok && (x->errcode == XML_ERR_INVALID_CHAR || x->errcode == XML_ERR_INVALID_CHARREF) &&
        sanitize(data, len)) {
        ok = parse_once(x, data, len);
    }
    if (!ok) {
        x->rejects++;
        if (where) {
            snprintf(loc, sizeof(loc), "%s", where);
        } else {
            snprintf(loc, sizeof(loc), "line %ld",
                     first_line + (x->errline > 0 ? x->errline - 1 : 0));
        }
        if (x->sink.on_reject) {
            x->sink.on_reject(x->sink.ctx, x->source, loc,
                              x->errmsg[0] ? x->errmsg : "malformed event XML");
        }
        return NS_OK;
    }
    return ns_deliver(&x->sink, &x->raw, &x->ev, x->source, where, first_line);
}

/* ========================================================================================== */
/* The stream                                                                                  */
/* ========================================================================================== */

int ns_xml_new(struct ns_xml **out, const char *source, const struct ns_sink *sink)
{
    struct ns_xml *x = calloc(1, sizeof(*x));
    xmlSAXHandler sax;
    if (!x) {
        return NS_ENOMEM;
    }
    x->source = source;
    x->sink = *sink;
    x->line = 1;
    ns_buf_init(&x->pend, EVENT_MAX_BYTES * 2 + (1u << 20));
    ns_buf_init(&x->text, TEXT_MAX_BYTES);
    ns_raw_init(&x->raw);
    ns_event_init(&x->ev);
    memset(&sax, 0, sizeof(sax));
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_chars;
    sax.serror = on_serror;
    sax.internalSubset = on_internal_subset;
    sax.getEntity = on_get_entity;
    x->ctxt = xmlCreatePushParserCtxt(&sax, x, NULL, 0, NULL);
    if (!x->ctxt) {
        ns_xml_free(x);
        return NS_ENOMEM;
    }
    *out = x;
    return NS_OK;
}

void ns_xml_free(struct ns_xml *x)
{
    if (!x) {
        return;
    }
    if (x->ctxt) {
        xmlFreeParserCtxt(x->ctxt);
    }
    ns_buf_free(&x->pend);
    ns_buf_free(&x->text);
    ns_raw_free(&x->raw);
    ns_event_free(&x->ev);
    free(x);
}

uint64_t ns_xml_rejects(const struct ns_xml *x)
{
    return x->rejects;
}

void ns_xml_set_fast(struct ns_xml *x, int fast)
{
    x->no_fast = !fast;
}

uint64_t ns_xml_fast_events(const struct ns_xml *x)
{
    return x->fast_events;
}

static void reject(struct ns_xml *x, long line, const char *why)
{
    char loc[32];
    x->rejects++;
    snprintf(loc, sizeof(loc), "line %ld", line);
    if (x->sink.on_reject) {
        x->sink.on_reject(x->sink.ctx, x->source, loc, why);
    }
}

static long count_lines(const char *p, size_t n)
{
    long lines = 0;
    const char *end = p + n;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p++;
    }
    return lines;
}

/* Length of the tag name boundary: 1 when p[0] ends a tag name ("<Event" + ws, '>' or '/'). */
static int name_ends(char c)
{
    return c == ' ' || c == '>' || c == '/' || c == '\t' || c == '\r' || c == '\n';
}

/* Reads encoding="..." of an <?xml?> declaration at p, when it names an 8-bit encoding. */
static void read_declaration(struct ns_xml *x, const char *p, size_t n)
{
    const char *end, *e;
    if (n < 5 || memcmp(p, "<?xml", 5) != 0) {
        return;
    }
    end = memchr(p, '>', n < DECL_MAX_BYTES ? n : DECL_MAX_BYTES);
    if (!end) {
        return;
    }
    for (e = p; e + 9 < end; e++) {
        if (!memcmp(e, "encoding=", 9)) {
            char q = e[9];
            const char *v = e + 10, *close;
            size_t len;
            if (q != '"' && q != '\'') {
                return;
            }
            close = memchr(v, q, (size_t)(end - v));
            len = close ? (size_t)(close - v) : 0;
            if (len && len < sizeof(x->declared_enc) && strncasecmp(v, "utf-8", len) &&
                strncasecmp(v, "utf-16", 6) && strncasecmp(v, "unicode", 7)) {
                memcpy(x->declared_enc, v, len);
                x->declared_enc[len] = '\0';
            }
            return;
        }
    }
}

static int is_event_start(const char *p, size_t avail)
{
    return avail >= 7 && !memcmp(p, "<Event", 6) && name_ends(p[6]) && p[6] != '/';
}

static int is_event_end(const char *p, size_t avail)
{
    return avail >= 8 && !memcmp(p, "</Event", 7) &&
           (p[7] == '>' || (name_ends(p[7]) && p[7] != '/'));
}

/* Finds complete events in pend[pos..] and parses them. final: no more input comes. */
static int scan(struct ns_xml *x, int final)
{
    char *buf = x->pend.data;
    size_t len = x->pend.len;
    int rc;
    while (x->pos < len) {
        if (!x->inside) {
            char *lt = memchr(buf + x->pos, '<', len - x->pos);
            size_t at;
            if (!lt) {
                x->line += count_lines(buf + x->pos, len - x->pos);
                x->pos = len;
                break;
            }
            at = (size_t)(lt - buf);
            if (len - at < 9 && !final) {
                x->line += count_lines(buf + x->pos, at - x->pos);
                x->pos = at; /* a tag name may be cut by the chunk boundary */
                break;
            }
            x->line += count_lines(buf + x->pos, at - x->pos);
            x->pos = at;
            if (is_event_start(lt, len - at)) {
                x->inside = 1;
                x->ev_start = at;
                x->cur = at + 1;
                x->ev_line = x->line;
                x->events_seen++;
                continue;
            }
            if (x->events_seen == 0 && !x->declared_enc[0]) {
                read_declaration(x, lt, len - at);
            }
            x->pos = at + 1;
            continue;
        }
        /* inside an event: find its end tag, or the start of another event (this one is cut) */
        {
            char *lt = x->cur < len ? memchr(buf + x->cur, '<', len - x->cur) : NULL;
            size_t at;
            if (!lt) {
                x->cur = len;
                break;
            }
            at = (size_t)(lt - buf);
            if (len - at < 9 && !final) {
                x->cur = at;
                break;
            }
            if (is_event_end(lt, len - at)) {
                char *gt = memchr(lt + 7, '>', len - at - 7);
                size_t end;
                if (!gt) {
                    x->cur = at;
                    if (final) {
                        break; /* finish() reports the truncated event */
                    }
                    break;
                }
                end = (size_t)(gt - buf) + 1;
                if (x->skipping) {
                    x->skipping = 0;
                } else if ((rc = ns_xml_parse_event(x, buf + x->ev_start, end - x->ev_start, NULL,
                                                    x->ev_line)) != NS_OK) {
                    return rc;
                }
                x->line += count_lines(buf + x->ev_start, end - x->ev_start);
                x->pos = end;
                x->inside = 0;
                continue;
            }
            if (is_event_start(lt, len - at)) {
                if (!x->skipping) {
                    reject(x, x->ev_line, "truncated event: a new <Event> starts before </Event>");
                }
                x->skipping = 0;
                x->line += count_lines(buf + x->ev_start, at - x->ev_start);
                x->pos = at;
                x->ev_start = at;
                x->cur = at + 1;
                x->ev_line = x->line;
                x->events_seen++;
                continue;
            }
            x->cur = at + 1;
        }
    }
    if (x->inside && len - x->ev_start > EVENT_MAX_BYTES) {
        /* an event that does not end: drop what is buffered and skip to its end tag */
        reject(x, x->ev_line, "event larger than 2 MiB");
        x->skipping = 1;
        x->line += count_lines(buf + x->ev_start, len - x->ev_start);
        x->ev_start = x->cur = x->pos = len;
    }
    return NS_OK;
}

/* Drops consumed bytes from the front of pend. */
static void compact(struct ns_xml *x)
{
    if (x->pos == 0) {
        return;
    }
    ns_buf_consume(&x->pend, x->pos);
    if (x->inside) {
        x->ev_start -= x->pos;
        x->cur -= x->pos;
    }
    x->pos = 0;
}

/* Appends one decoded code point as UTF-8. */
static int put_utf8(struct ns_buf *b, unsigned cp)
{
    char o[4];
    return ns_buf_add(b, o, ns_utf8_put(o, cp));
}

/* Decodes UTF-16 into pend; a lone surrogate becomes U+FFFD. */
static int decode_utf16(struct ns_xml *x, const unsigned char *p, size_t n)
{
    int rc = NS_OK;
    size_t k = 0;
    int le = x->enc == ENC_UTF16LE;
    while (rc == NS_OK) {
        unsigned u;
        if (x->ncarry == 1 && k < n) {
            x->carry[1] = p[k++];
            x->ncarry = 2;
        }
        if (x->ncarry == 2) {
            u = le ? (unsigned)(x->carry[0] | (x->carry[1] << 8))
                   : (unsigned)((x->carry[0] << 8) | x->carry[1]);
            x->ncarry = 0;
        } else if (k + 1 < n) {
            u = le ? (unsigned)(p[k] | (p[k + 1] << 8)) : (unsigned)((p[k] << 8) | p[k + 1]);
            k += 2;
        } else {
            if (k < n) {
                x->carry[0] = p[k];
                x->ncarry = 1;
            }
            break;
        }
        if (x->high_surrogate) {
            unsigned hs = x->high_surrogate;
            x->high_surrogate = 0;
            if (u >= 0xDC00 && u <= 0xDFFF) {
                rc = put_utf8(&x->pend, 0x10000 + ((hs - 0xD800) << 10) + (u - 0xDC00));
                continue;
            }
            rc = put_utf8(&x->pend, 0xFFFD);
            if (rc != NS_OK) {
                break;
            }
        }
        if (u >= 0xD800 && u <= 0xDBFF) {
            x->high_surrogate = u;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            rc = put_utf8(&x->pend, 0xFFFD);
        } else {
            rc = put_utf8(&x->pend, u);
        }
    }
    return rc;
}

/* Decides the encoding on the first bytes; returns how many BOM bytes to skip. */
static size_t sniff(struct ns_xml *x, const unsigned char *p, size_t n)
{
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        x->enc = ENC_UTF8;
        return 3;
    }
    if (n >= 2 && p[0] == 0xFF && p[1] == 0xFE) {
        x->enc = ENC_UTF16LE;
        return 2;
    }
    if (n >= 2 && p[0] == 0xFE && p[1] == 0xFF) {
        x->enc = ENC_UTF16BE;
        return 2;
    }
    if (n >= 2 && p[0] != 0 && p[1] == 0) {
        x->enc = ENC_UTF16LE; /* "<\0" with no byte-order mark */
    } else if (n >= 2 && p[0] == 0 && p[1] != 0) {
        x->enc = ENC_UTF16BE;
    } else {
        x->enc = ENC_UTF8;
    }
    return 0;
}

#define FEED_SLICE (256u << 10)

int ns_xml_feed(struct ns_xml *x, const char *data, size_t len)
{
    const unsigned char *p = (const unsigned char *)data;
    int rc = NS_OK;
    if (x->stop_rc != NS_OK) {
        return x->stop_rc;
    }
    x->bytes_in += len;
    if (x->enc == ENC_UNKNOWN && len) {
        size_t skip;
        if (len < 3 && x->ncarry == 0) {
            /* too few bytes to decide: keep them */
            memcpy(x->carry, p, len);
            x->ncarry = len;
            x->enc = ENC_UNKNOWN;
            return NS_OK;
        }
        if (x->ncarry) {
            unsigned char head[8];
            size_t h = x->ncarry, extra = len < 8 - h ? len : 8 - h;
            memcpy(head, x->carry, h);
            memcpy(head + h, p, extra);
            x->ncarry = 0;
            skip = sniff(x, head, h + extra);
            /* feed the kept bytes (minus BOM) then the rest */
            if (skip < h) {
                if (x->enc == ENC_UTF8) {
                    rc = ns_buf_add(&x->pend, head + skip, h - skip);
                } else {
                    rc = decode_utf16(x, head + skip, h - skip);
                }
                skip = 0;
            } else {
                skip -= h;
            }
        } else {
            skip = sniff(x, p, len);
        }
        p += skip;
        len -= skip;
    }
    while (rc == NS_OK && len) {
        size_t slice = len < FEED_SLICE ? len : FEED_SLICE;
        compact(x);
        if (x->enc == ENC_UTF16LE || x->enc == ENC_UTF16BE) {
            rc = decode_utf16(x, p, slice);
        } else {
            rc = ns_buf_add(&x->pend, p, slice);
        }
        if (!x->saw_content) {
            for (size_t k = 0; k < slice; k++) {
                if (p[k] > ' ') {
                    x->saw_content = 1;
                    break;
                }
            }
        }
        p += slice;
        len -= slice;
        if (rc == NS_OK) {
            rc = scan(x, 0);
        }
    }
    if (rc != NS_OK && rc != NS_ETOOBIG && rc != NS_ENOMEM) {
        x->stop_rc = rc;
    }
    return rc;
}

int ns_xml_finish(struct ns_xml *x)
{
    int rc;
    char why[96];
    if (x->stop_rc != NS_OK) {
        return x->stop_rc;
    }
    if (x->enc == ENC_UNKNOWN && x->ncarry) {
        unsigned char head[4];
        size_t n = x->ncarry;
        memcpy(head, x->carry, n);
        x->ncarry = 0;
        x->enc = ENC_UTF8;
        if ((rc = ns_buf_add(&x->pend, head, n)) != NS_OK) {
            return rc;
        }
        x->saw_content = 1;
    }
    if (x->ncarry || x->high_surrogate) {
        reject(x, x->line, "input ends in the middle of a UTF-16 character");
    }
    if ((rc = scan(x, 1)) != NS_OK) {
        return rc;
    }
    if (x->inside && !x->skipping) {
        snprintf(why, sizeof(why), "truncated: the input ends inside this <Event>");
        reject(x, x->ev_line, why);
    }
    if (x->events_seen == 0 && x->saw_content) {
        reject(x, 1, "no <Event> element found: not event XML");
    }
    return NS_OK;
}
