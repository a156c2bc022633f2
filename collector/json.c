/*
 * json.c - events as JSON, streamed: one object, an array of objects, or objects one after
 * another (NDJSON). A small scanner finds each top-level object (so a 1 GB array never sits
 * in memory and a bad object is rejected with its line while the rest is read), and jansson
 * decodes it. Three shapes are understood, by a table of paths:
 *   - the seeds' shape: {"system": {...}, "event_data": {...}, "message": "..."}
 *   - Winlogbeat / Elastic: {"winlog": {"event_data": {...}, ...}, "@timestamp": ..., ...}
 *   - flat shippers (NXLog, Splunk): {"EventID": ..., "Channel": ..., "Hostname": ..., fields}
 *   - ntlmscope's own canonical events, as agents ship them: {"ntlmscope": 1, ...}
 */
#include "ns_parser.h"

#include <jansson.h>
#include <string.h>

#define OBJECT_MAX_BYTES (2u << 20)

struct ns_json {
    const char *source;  /* input name for messages */
    struct ns_sink sink; /* where events go */
    struct ns_buf pend;  /* bytes not yet consumed */
    size_t pos;          /* read offset in pend */
    size_t scan;         /* scanner position inside the current object */
    long line;           /* line at pend[pos] */
    long obj_line;       /* line where the current object starts */
    int in_obj;          /* 1 while inside a top-level object */
    int depth;           /* nesting depth inside the object */
    int in_str;          /* inside a string */
    int esc;             /* previous byte was a backslash in a string */
    int skipping;        /* dropping an oversized object */
    int bad_run;         /* inside a run of stray bytes already reported */
    int bom_checked;     /* the UTF-8 byte-order mark was looked for */
    uint64_t objects;    /* objects found */
    uint64_t rejects;    /* objects rejected here */
    int stop_rc;         /* a sink's stop code */
    struct ns_raw raw;   /* the event being read */
    struct ns_event ev;  /* normalized event for the sink */
    struct ns_buf val;   /* scratch for value text */
};

/* ========================================================================================== */
/* Shapes                                                                                      */
/* ========================================================================================== */

/* System values by path ("a.b.c") in each shape. */
struct sys_path {
    enum ns_sys slot; /* raw slot */
    const char *path; /* dotted path from the object root */
};

static const struct sys_path seeds_paths[] = {
    {NS_S_PROVIDER, "system.provider"},
    {NS_S_PROVIDER_GUID, "system.guid"},
    {NS_S_EVENT_ID, "system.event_id"},
    {NS_S_VERSION, "system.version"},
    {NS_S_LEVEL, "system.level"},
    {NS_S_TASK, "system.task"},
    {NS_S_OPCODE, "system.opcode"},
    {NS_S_KEYWORDS, "system.keywords"},
    {NS_S_TIME, "system.time_created"},
    {NS_S_RECORD_ID, "system.event_record_id"},
    {NS_S_ACTIVITY_ID, "system.correlation.ActivityID"},
    {NS_S_EXEC_PID, "system.execution.process_id"},
    {NS_S_EXEC_TID, "system.execution.thread_id"},
    {NS_S_CHANNEL, "system.channel"},
    {NS_S_COMPUTER, "system.computer"},
    {NS_S_USER_SID, "system.security.user_id"},
    {NS_S_MESSAGE, "message"},
};

static const struct sys_path winlog_paths[] = {
    {NS_S_PROVIDER, "winlog.provider_name"},   {NS_S_PROVIDER_GUID, "winlog.provider_guid"},
    {NS_S_EVENT_ID, "winlog.event_id"},        {NS_S_VERSION, "winlog.version"},
    {NS_S_TIME, "winlog.time_created"},        {NS_S_TIME, "@timestamp"},
    {NS_S_RECORD_ID, "winlog.record_id"},      {NS_S_ACTIVITY_ID, "winlog.activity_id"},
    {NS_S_EXEC_PID, "winlog.process.pid"},     {NS_S_EXEC_TID, "winlog.process.thread.id"},
    {NS_S_CHANNEL, "winlog.channel"},          {NS_S_COMPUTER, "winlog.computer_name"},
    {NS_S_USER_SID, "winlog.user.identifier"}, {NS_S_MESSAGE, "message"},
};

/* Flat shippers: top-level keys, several spellings each. */
static const struct {
    enum ns_sys slot; /* raw slot */
    const char *keys; /* "A|B|C" */
} flat_keys[] = {
    {NS_S_PROVIDER, "ProviderName|Provider|SourceName"},
    {NS_S_PROVIDER_GUID, "ProviderGuid"},
    {NS_S_EVENT_ID, "EventID|EventId|EventCode"},
    {NS_S_VERSION, "Version"},
    {NS_S_LEVEL, "Level|SeverityValue"},
    {NS_S_TASK, "Task"},
    {NS_S_OPCODE, "OpcodeValue|Opcode"},
    {NS_S_KEYWORDS, "Keywords"},
    {NS_S_TIME, "TimeCreated|SystemTime|EventTime|UtcTime"},
    {NS_S_RECORD_ID, "EventRecordID|RecordNumber|RecordId"},
    {NS_S_ACTIVITY_ID, "ActivityID|ActivityId"},
    {NS_S_EXEC_PID, "ExecutionProcessID|ProcessID"},
    {NS_S_EXEC_TID, "ExecutionThreadID|ThreadID"},
    {NS_S_CHANNEL, "Channel|LogName"},
    {NS_S_COMPUTER, "Computer|Hostname|ComputerName|MachineName"},
    {NS_S_USER_SID, "UserID|UserSid|SecurityUserID"},
    {NS_S_MESSAGE, "Message"},
};

/* Metadata keys of flat shippers that are not event fields. */
static const char *const flat_ignore[] = {"EventReceivedTime",
                                          "SourceModuleName",
                                          "SourceModuleType",
                                          "EventType",
                                          "Severity",
                                          "Category",
                                          "AccountType",
                                          "Domain_",
                                          "ERRORCODE",
                                          "@version",
                                          "host",
                                          "tags",
                                          NULL};

static json_t *json_path(json_t *root, const char *path)
{
    char key[64];
    json_t *cur = root;
    while (cur && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof(key) || !json_is_object(cur)) {
            return NULL;
        }
        memcpy(key, path, n);
        key[n] = '\0';
        cur = json_object_get(cur, key);
        path += n + (dot ? 1 : 0);
    }
    return cur;
}

/* Renders a JSON scalar as text into j->val. Returns 0 for null, 1 otherwise. */
static int value_text(struct ns_json *j, json_t *v, int *rc)
{
    char tmp[64];
    ns_buf_reset(&j->val);
    *rc = NS_OK;
    switch (json_typeof(v)) {
    case JSON_NULL:
        return 0;
    case JSON_STRING:
        *rc = ns_buf_add(&j->val, json_string_value(v), json_string_length(v));
        return 1;
    case JSON_INTEGER:
        snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL: {
        double d = json_real_value(v);
        if (d == (double)(long long)d && d > -9.2e18 && d < 9.2e18) {
            snprintf(tmp, sizeof(tmp), "%lld", (long long)d);
        } else if (d >= 0 && d < 1.8446744073709552e19 && d == (double)(unsigned long long)d) {
            snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)d);
        } else {
            snprintf(tmp, sizeof(tmp), "%.17g", d);
        }
        break;
    }
    case JSON_TRUE:
        snprintf(tmp, sizeof(tmp), "true");
        break;
    case JSON_FALSE:
        snprintf(tmp, sizeof(tmp), "false");
        break;
    default: {
        char *dump = json_dumps(v, JSON_COMPACT);
        if (!dump) {
            *rc = NS_ENOMEM;
            return 0;
        }
        *rc = ns_buf_adds(&j->val, dump);
        free(dump);
        return 1;
    }
    }
    *rc = ns_buf_adds(&j->val, tmp);
    return 1;
}

static int set_sys_from(struct ns_json *j, enum ns_sys slot, json_t *v)
{
    int rc;
    if (!v || j->raw.sys[slot]) {
        return NS_OK;
    }
    if (!value_text(j, v, &rc) || rc != NS_OK) {
        return rc;
    }
    return ns_raw_set_sys(&j->raw, slot, j->val.data ? j->val.data : "", j->val.len);
}

static int add_data_object(struct ns_json *j, json_t *obj)
{
    const char *key;
    json_t *v;
    int rc = NS_OK;
    if (!json_is_object(obj)) {
        return NS_OK;
    }
    json_object_foreach(obj, key, v)
    {
        int has = value_text(j, v, &rc);
        if (rc != NS_OK) {
            return rc;
        }
        rc = ns_raw_add_data(&j->raw, key, strlen(key), has ? j->val.data : NULL,
                             has ? j->val.len : 0);
        if (rc != NS_OK) {
            return rc;
        }
    }
    return rc;
}

static int matches_key(const char *keys, const char *key)
{
    size_t n = strlen(key);
    while (*keys) {
        const char *bar = strchr(keys, '|');
        size_t len = bar ? (size_t)(bar - keys) : strlen(keys);
        if (len == n && !strncmp(keys, key, n)) {
            return 1;
        }
        keys += len + (bar ? 1 : 0);
    }
    return 0;
}

/* Fills j->raw from one decoded object. Returns NS_OK or NS_ETOOBIG/NS_ENOMEM; sets
 * *shape_err to a message when the object has no known shape. */
static int read_object(struct ns_json *j, json_t *root, const char **shape_err)
{
    int rc = NS_OK;
    *shape_err = NULL;
    ns_raw_reset(&j->raw);
    if (!json_is_object(root)) {
        *shape_err = "not a JSON object";
        return NS_OK;
    }
    if (json_is_object(json_object_get(root, "system"))) {
        for (size_t k = 0; k < sizeof(seeds_paths) / sizeof(seeds_paths[0]) && rc == NS_OK; k++) {
            rc = set_sys_from(j, seeds_paths[k].slot, json_path(root, seeds_paths[k].path));
        }
        if (rc == NS_OK) {
            rc = add_data_object(j, json_object_get(root, "event_data"));
        }
        if (rc == NS_OK) {
            rc = add_data_object(j, json_object_get(root, "user_data"));
        }
        return rc;
    }
    if (json_is_object(json_object_get(root, "winlog"))) {
        for (size_t k = 0; k < sizeof(winlog_paths) / sizeof(winlog_paths[0]) && rc == NS_OK; k++) {
            rc = set_sys_from(j, winlog_paths[k].slot, json_path(root, winlog_paths[k].path));
        }
        if (rc == NS_OK && !j->raw.sys[NS_S_LEVEL]) {
            /* Winlogbeat renders the level as text */
            json_t *lv = json_path(root, "log.level");
            static const struct {
                const char *text; /* rendered level */
                const char *num;  /* its number */
            } levels[] = {{"error", "2"}, {"warning", "3"}, {"information", "4"}, {"info", "4"}};
            if (json_is_string(lv)) {
                for (size_t k = 0; k < sizeof(levels) / sizeof(levels[0]); k++) {
                    if (ns_strieq(json_string_value(lv), levels[k].text)) {
                        rc = ns_raw_set_sys(&j->raw, NS_S_LEVEL, levels[k].num, 1);
                    }
                }
            }
        }
        if (rc == NS_OK) {
            rc = add_data_object(j, json_path(root, "winlog.event_data"));
        }
        if (rc == NS_OK) {
            rc = add_data_object(j, json_path(root, "winlog.user_data"));
        }
        return rc;
    }
    {
        const char *key;
        json_t *v;
        int any = 0;
        json_object_foreach(root, key, v)
        {
            int used = 0;
            for (size_t k = 0; k < sizeof(flat_keys) / sizeof(flat_keys[0]); k++) {
                if (matches_key(flat_keys[k].keys, key)) {
                    if ((rc = set_sys_from(j, flat_keys[k].slot, v)) != NS_OK) {
                        return rc;
                    }
                    used = 1;
                    if (flat_keys[k].slot == NS_S_EVENT_ID) {
                        any = 1;
                    }
                }
            }
            for (size_t k = 0; !used && flat_ignore[k]; k++) {
                used = !strcmp(flat_ignore[k], key);
            }
            if (!used) {
                int has = value_text(j, v, &rc);
                if (rc == NS_OK) {
                    rc = ns_raw_add_data(&j->raw, key, strlen(key), has ? j->val.data : NULL,
                                         has ? j->val.len : 0);
                }
                if (rc != NS_OK) {
                    return rc;
                }
            }
        }
        if (!any) {
            *shape_err = "no event ID: not a Windows event (expected \"system\", \"winlog\" or "
                         "\"EventID\")";
        }
    }
    return rc;
}

/* ========================================================================================== */
/* The stream                                                                                  */
/* ========================================================================================== */

int ns_json_new(struct ns_json **out, const char *source, const struct ns_sink *sink)
{
    struct ns_json *j = calloc(1, sizeof(*j));
    if (!j) {
        return NS_ENOMEM;
    }
    j->source = source;
    j->sink = *sink;
    j->line = 1;
    ns_buf_init(&j->pend, OBJECT_MAX_BYTES * 2 + (1u << 20));
    ns_buf_init(&j->val, OBJECT_MAX_BYTES);
    ns_raw_init(&j->raw);
    ns_event_init(&j->ev);
    *out = j;
    return NS_OK;
}

void ns_json_free(struct ns_json *j)
{
    if (!j) {
        return;
    }
    ns_buf_free(&j->pend);
    ns_buf_free(&j->val);
    ns_raw_free(&j->raw);
    ns_event_free(&j->ev);
    free(j);
}

uint64_t ns_json_rejects(const struct ns_json *j)
{
    return j->rejects;
}

static void reject(struct ns_json *j, long line, const char *why)
{
    char loc[32];
    j->rejects++;
    snprintf(loc, sizeof(loc), "line %ld", line);
    if (j->sink.on_reject) {
        j->sink.on_reject(j->sink.ctx, j->source, loc, why);
    }
}

/* Decodes one complete object text and delivers it. */
static int handle_object(struct ns_json *j, const char *p, size_t n, long line)
{
    json_error_t err;
    json_t *root;
    const char *shape_err = NULL;
    char why[256];
    int rc;
    /* an agent's event as agents write it: read directly (jansson reads anything else) */
    if (n > 14 && !memcmp(p, "{\"ntlmscope\":1", 14) &&
        ns_event_from_canonical_text(p, n, &j->ev, &j->val) == 0) {
        return j->sink.on_event ? j->sink.on_event(j->sink.ctx, &j->ev) : NS_OK;
    }
    root = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!root && strstr(err.text, "too big integer")) {
        /* 64-bit unsigned values (keywords 9223372036854775808) */
        root = json_loadb(p, n, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &err);
    }
    if (!root) {
        snprintf(why, sizeof(why), "invalid JSON: %s", err.text);
        reject(j, line + (err.line > 1 ? err.line - 1 : 0), why);
        return NS_OK;
    }
    if (json_is_object(root) && ns_json_is_canonical(root)) {
        /* an agent's event, normalized already */
        rc = ns_event_from_json(root, &j->ev, why, sizeof(why));
        json_decref(root);
        if (rc != NS_OK) {
            reject(j, line, why);
            return NS_OK;
        }
        return j->sink.on_event ? j->sink.on_event(j->sink.ctx, &j->ev) : NS_OK;
    }
    rc = read_object(j, root, &shape_err);
    json_decref(root);
    if (rc != NS_OK) {
        snprintf(why, sizeof(why), "event too large (%s)", ns_rc_str(rc));
        reject(j, line, why);
        return NS_OK;
    }
    if (shape_err) {
        reject(j, line, shape_err);
        return NS_OK;
    }
    return ns_deliver(&j->sink, &j->raw, &j->ev, j->source, NULL, line);
}

/* Agents send one canonical object per line: a line that is exactly one (and at most
 * AGENT_LINE_MAX bytes, so the search for its end stays short on other input) is read at
 * once, without matching its braces first. Returns 1 when it was (*rc: the sink's answer;
 * j->pos is then on the line's newline), 0 to read the object the general way. */
#define AGENT_LINE_MAX (64u << 10)
static int agent_line(struct ns_json *j, const char *buf, size_t len, int *rc)
{
    const char *p = buf + j->pos, *nl;
    size_t room = len - j->pos;
    *rc = NS_OK;
    if (room < 15 || memcmp(p, "{\"ntlmscope\":1", 14) ||
        !(nl = memchr(p, '\n', room < AGENT_LINE_MAX ? room : AGENT_LINE_MAX)) ||
        ns_event_from_canonical_text(p, (size_t)(nl - p), &j->ev, &j->val) != 0) {
        return 0;
    }
    j->objects++;
    j->bad_run = 0;
    j->pos = (size_t)(nl - buf);
    if (j->sink.on_event) {
        *rc = j->sink.on_event(j->sink.ctx, &j->ev);
    }
    return 1;
}

static int scan(struct ns_json *j)
{
    char *buf = j->pend.data;
    size_t len = j->pend.len;
    int rc;
    while (j->pos < len) {
        if (!j->in_obj) {
            char c = buf[j->pos];
            if (c == '\n') {
                j->line++;
                j->bad_run = 0;
            }
            if (c == '{' && agent_line(j, buf, len, &rc)) {
                if (rc != NS_OK) {
                    return rc;
                }
                continue;
            }
            if (c == '{') {
                j->in_obj = 1;
                j->depth = 1;
                j->in_str = j->esc = 0;
                j->scan = j->pos + 1;
                j->obj_line = j->line;
                j->objects++;
                j->bad_run = 0;
                continue;
            }
            if (!(c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == '[' ||
                  c == ']') &&
                !j->bad_run) {
                char why[96];
                snprintf(why, sizeof(why), "unexpected '%c' between events: not an event object",
                         (c >= 0x20 && c < 0x7f) ? c : '?');
                reject(j, j->line, why);
                j->bad_run = 1;
            }
            j->pos++;
            continue;
        }
        /* inside an object: find its matching close brace */
        while (j->scan < len) {
            char c;
            if (j->in_str && !j->esc) {
                /* ordinary string bytes in one run */
                const char *p = buf + j->scan, *e = buf + len;
                while (p < e && *p != '"' && *p != '\\' && *p != '\n') {
                    p++;
                }
                j->scan = (size_t)(p - buf);
                if (p == e) {
                    break;
                }
            }
            c = buf[j->scan++];
            if (j->in_str) {
                if (j->esc) {
                    j->esc = 0;
                } else if (c == '\\') {
                    j->esc = 1;
                } else if (c == '"') {
                    j->in_str = 0;
                } else if (c == '\n') {
                    j->in_str = 0; /* a raw newline cannot be inside a string: resync */
                }
                continue;
            }
            if (c == '"') {
                j->in_str = 1;
            } else if (c == '{' || c == '[') {
                j->depth++;
            } else if (c == '}' || c == ']') {
                if (--j->depth == 0) {
                    break;
                }
            }
        }
        if (j->depth > 0) {
            if (j->scan - j->pos > OBJECT_MAX_BYTES) {
                long lines = 0;
                for (size_t k = j->pos; k < len; k++) {
                    lines += buf[k] == '\n';
                }
                if (!j->skipping) {
                    reject(j, j->obj_line, "event object larger than 2 MiB");
                }
                j->skipping = 1;
                j->line += lines;
                /* keep scanning state; drop the bytes */
                j->scan = len;
                j->pos = len;
                j->pend.len = len; /* compact() drops them */
            }
            break;
        }
        {
            size_t end = j->scan;
            long lines = 0;
            for (size_t k = j->pos; k < end; k++) {
                lines += buf[k] == '\n';
            }
            if (j->skipping) {
                j->skipping = 0;
            } else if ((rc = handle_object(j, buf + j->pos, end - j->pos, j->obj_line)) != NS_OK) {
                return rc;
            }
            j->line += lines;
            j->pos = end;
            j->in_obj = 0;
        }
    }
    return NS_OK;
}

static void compact(struct ns_json *j)
{
    if (j->pos == 0) {
        return;
    }
    ns_buf_consume(&j->pend, j->pos);
    if (j->in_obj) {
        j->scan -= j->pos;
    }
    j->pos = 0;
}

#define FEED_SLICE (256u << 10)

int ns_json_feed(struct ns_json *j, const char *data, size_t len)
{
    int rc = NS_OK;
    if (j->stop_rc != NS_OK) {
        return j->stop_rc;
    }
    if (!j->bom_checked && len) {
        if (len >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
            (unsigned char)data[2] == 0xBF) {
            data += 3;
            len -= 3;
        }
        j->bom_checked = 1;
    }
    while (rc == NS_OK && len) {
        size_t slice = len < FEED_SLICE ? len : FEED_SLICE;
        compact(j);
        if (j->skipping && j->in_obj) {
            /* oversized object: scan the new bytes without keeping them */
            size_t before = j->pend.len;
            rc = ns_buf_add(&j->pend, data, slice);
            if (rc == NS_OK) {
                rc = scan(j);
            }
            (void)before;
        } else {
            rc = ns_buf_add(&j->pend, data, slice);
            if (rc == NS_OK) {
                rc = scan(j);
            }
        }
        data += slice;
        len -= slice;
    }
    if (rc != NS_OK && rc != NS_ETOOBIG && rc != NS_ENOMEM) {
        j->stop_rc = rc;
    }
    return rc;
}

int ns_json_finish(struct ns_json *j)
{
    if (j->stop_rc != NS_OK) {
        return j->stop_rc;
    }
    if (j->in_obj && !j->skipping) {
        reject(j, j->obj_line, "truncated: the input ends inside this JSON object");
    }
    return NS_OK;
}
