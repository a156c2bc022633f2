/*
 * ns_event.h - the canonical NTLM event every parser produces (DESIGN.md, "Canonical event"),
 * the raw event the parsers fill before normalization, and the event catalogue.
 */
#ifndef NS_EVENT_H
#define NS_EVENT_H

#include "ns_common.h"

/* How a canonical field is typed and stored. */
enum ns_kind {
    NS_K_TEXT, /* UTF-8 text */
    NS_K_INT,  /* signed 64-bit integer, from decimal or 0x hex */
    NS_K_HEX,  /* bit field: integer parsed, kept as canonical text "0x3e7" */
    NS_K_BOOL, /* 0 or 1, from true/false/1/0/yes/no */
    NS_K_TIME  /* microseconds since 1970 UTC */
};

/*
 * Every canonical field in storage order: X(name, kind). The order is the column order of
 * the events table (sql/schema.sql) and of the `events` view.
 */
#define NS_FIELDS(X)                                                                               \
    X(channel, NS_K_TEXT)                                                                          \
    X(provider, NS_K_TEXT)                                                                         \
    X(event_id, NS_K_INT)                                                                          \
    X(version, NS_K_INT)                                                                           \
    X(level, NS_K_INT)                                                                             \
    X(task, NS_K_INT)                                                                              \
    X(opcode, NS_K_INT)                                                                            \
    X(keywords, NS_K_HEX)                                                                          \
    X(time_created, NS_K_TIME)                                                                     \
    X(record_id, NS_K_INT)                                                                         \
    X(computer, NS_K_TEXT)                                                                         \
    X(exec_pid, NS_K_INT)                                                                          \
    X(exec_tid, NS_K_INT)                                                                          \
    X(user_sid, NS_K_TEXT)                                                                         \
    X(activity_id, NS_K_TEXT)                                                                      \
    X(role, NS_K_TEXT)                                                                             \
    X(outcome, NS_K_TEXT)                                                                          \
    X(account, NS_K_TEXT)                                                                          \
    X(account_domain, NS_K_TEXT)                                                                   \
    X(process_name, NS_K_TEXT)                                                                     \
    X(process_pid, NS_K_INT)                                                                       \
    X(client_luid, NS_K_HEX)                                                                       \
    X(process_user, NS_K_TEXT)                                                                     \
    X(process_domain, NS_K_TEXT)                                                                   \
    X(logon_type, NS_K_INT)                                                                        \
    X(in_proc, NS_K_BOOL)                                                                          \
    X(sign_on, NS_K_TEXT)                                                                          \
    X(reason_id, NS_K_INT)                                                                         \
    X(reason_text, NS_K_TEXT)                                                                      \
    X(mechanism_oid, NS_K_TEXT)                                                                    \
    X(client_machine, NS_K_TEXT)                                                                   \
    X(client_ip, NS_K_TEXT)                                                                        \
    X(client_network_name, NS_K_TEXT)                                                              \
    X(target_machine, NS_K_TEXT)                                                                   \
    X(target_domain, NS_K_TEXT)                                                                    \
    X(target_service, NS_K_TEXT)                                                                   \
    X(target_ip, NS_K_TEXT)                                                                        \
    X(target_network_name, NS_K_TEXT)                                                              \
    X(server_name, NS_K_TEXT)                                                                      \
    X(server_domain, NS_K_TEXT)                                                                    \
    X(server_ip, NS_K_TEXT)                                                                        \
    X(server_os, NS_K_TEXT)                                                                        \
    X(farside_name, NS_K_TEXT)                                                                     \
    X(farside_domain, NS_K_TEXT)                                                                   \
    X(farside_ip, NS_K_TEXT)                                                                       \
    X(secure_channel_type, NS_K_INT)                                                               \
    X(ntlm_version, NS_K_TEXT)                                                                     \
    X(negotiated_flags, NS_K_HEX)                                                                  \
    X(session_key, NS_K_TEXT)                                                                      \
    X(channel_binding, NS_K_TEXT)                                                                  \
    X(service_binding, NS_K_TEXT)                                                                  \
    X(mic, NS_K_TEXT)                                                                              \
    X(av_flags, NS_K_HEX)                                                                          \
    X(av_flags_str, NS_K_TEXT)                                                                     \
    X(status, NS_K_HEX)                                                                            \
    X(status_msg, NS_K_TEXT)                                                                       \
    X(negotiated_security, NS_K_HEX)                                                               \
    X(required_security, NS_K_HEX)                                                                 \
    X(silo_name, NS_K_TEXT)                                                                        \
    X(policy_name, NS_K_TEXT)                                                                      \
    X(image_name, NS_K_TEXT)                                                                       \
    X(svchost_tag, NS_K_TEXT)                                                                      \
    X(message, NS_K_TEXT)                                                                          \
    X(extra, NS_K_TEXT)

#define NS_X_ENUM(name, kind) NS_F_##name,
enum ns_field { NS_FIELDS(NS_X_ENUM) NS_F_COUNT };
#undef NS_X_ENUM

/* Name and kind of each canonical field, indexed by enum ns_field. */
struct ns_field_info {
    const char *name;  /* column and JSON key */
    enum ns_kind kind; /* how it is typed */
};
extern const struct ns_field_info ns_fields[NS_F_COUNT];

/* Returns the field with that exact canonical name, or -1. */
int ns_field_by_name(const char *name);

/* A canonical event. Text values live in the event's arena. */
struct ns_event {
    const char *s[NS_F_COUNT];     /* text (TEXT and HEX kinds); NULL when absent */
    int64_t i[NS_F_COUNT];         /* value of INT, BOOL, TIME and HEX kinds */
    unsigned char has[NS_F_COUNT]; /* 1 when the field has a value */
    struct ns_arena arena;         /* owns every string of this event */
};

/* Initialises an empty event; release it with ns_event_free(). */
void ns_event_init(struct ns_event *ev);
/* Clears every field, keeping the arena's memory. */
void ns_event_reset(struct ns_event *ev);
void ns_event_free(struct ns_event *ev);
/* Sets a text field to a copy of s (len bytes). Returns NS_OK or NS_ETOOBIG/NS_ENOMEM. */
int ns_event_set_text(struct ns_event *ev, enum ns_field f, const char *s, size_t len);
/* Sets an integer-valued field (INT, BOOL, TIME; HEX also gets its canonical text). */
int ns_event_set_int(struct ns_event *ev, enum ns_field f, int64_t v);
/* Copies src into dst (dst must be initialised). */
int ns_event_copy(struct ns_event *dst, const struct ns_event *src);

/* ------------------------------------------------------------------------------------------ */
/* Raw event: what a parser read, before normalization                                         */
/* ------------------------------------------------------------------------------------------ */

/* System fields a parser may fill (XML <System>, JSON "system", shipper metadata). */
enum ns_sys {
    NS_S_PROVIDER,
    NS_S_PROVIDER_GUID,
    NS_S_EVENT_ID,
    NS_S_VERSION,
    NS_S_LEVEL,
    NS_S_TASK,
    NS_S_OPCODE,
    NS_S_KEYWORDS,
    NS_S_TIME,
    NS_S_RECORD_ID,
    NS_S_ACTIVITY_ID,
    NS_S_EXEC_PID,
    NS_S_EXEC_TID,
    NS_S_CHANNEL,
    NS_S_COMPUTER,
    NS_S_USER_SID,
    NS_S_MESSAGE,
    NS_S_COUNT
};

#define NS_RAW_MAX_DATA 256         /* EventData fields kept per event */
#define NS_RAW_MAX_BYTES (1u << 20) /* text bytes per event */

/* One EventData field. */
struct ns_raw_data {
    const char *name;  /* the Name attribute (or element / JSON key) */
    const char *value; /* its text; NULL for <Data Name="X"/> or JSON null */
};

struct ns_raw {
    const char *sys[NS_S_COUNT];              /* system values, NULL when absent */
    struct ns_raw_data data[NS_RAW_MAX_DATA]; /* EventData / UserData fields in order */
    size_t ndata;                             /* fields used in data[] */
    int too_many;                             /* more fields came than data[] holds */
    struct ns_arena arena;                    /* owns every string above */
};

void ns_raw_init(struct ns_raw *raw);
void ns_raw_reset(struct ns_raw *raw);
void ns_raw_free(struct ns_raw *raw);
/* Stores a copy of a system value. Returns NS_OK, NS_ETOOBIG or NS_ENOMEM. */
int ns_raw_set_sys(struct ns_raw *raw, enum ns_sys which, const char *s, size_t len);
/* Appends one data field (value may be NULL). Returns NS_OK, NS_ETOOBIG or NS_ENOMEM. */
int ns_raw_add_data(struct ns_raw *raw, const char *name, size_t nlen, const char *value,
                    size_t vlen);

/* ------------------------------------------------------------------------------------------ */
/* Catalogue and normalization                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* Which field layout an event ID uses (selects rows of the alias table). */
enum ns_shape {
    NS_SH_NONE = 0,
    NS_SH_POLICY = 1 << 0,     /* 100, 101, 301: authentication policy */
    NS_SH_CLIENT = 1 << 1,     /* 4001, 4015, 4024, 4025, 8001 */
    NS_SH_SERVER = 1 << 2,     /* 4002, 8002 */
    NS_SH_DOMAIN = 1 << 3,     /* 4003, 8003 */
    NS_SH_MINSEC = 1 << 4,     /* 4010, 4011 */
    NS_SH_CREDGUARD = 1 << 5,  /* 4014 */
    NS_SH_ENH_CLIENT = 1 << 6, /* 4020, 4021 */
    NS_SH_ENH_SERVER = 1 << 7, /* 4022, 4023 */
    NS_SH_ENH_DC = 1 << 8,     /* 4030-4033 */
    NS_SH_NETLOGON = 1 << 9    /* 4004-4006, 8004-8006 */
};

/* One row of the event catalogue (ntlm-events.md). */
struct ns_catalog_entry {
    int id;                   /* event ID */
    int netlogon;             /* 1 when written by Microsoft-Windows-Security-Netlogon */
    int level;                /* 2 error, 3 warning, 4 info */
    const char *role;         /* client, server, dc, other */
    const char *outcome;      /* audit, used, blocked, failed */
    enum ns_shape shape;      /* field layout */
    const char *ntlm_version; /* version implied by the ID itself, or NULL */
    const char *meaning;      /* one line for people */
};

/* Returns the catalogue row of an event ID, or NULL when it is not an NTLM event ID. */
const struct ns_catalog_entry *ns_catalog_find(int id);
/* The whole catalogue (for tests and the demo); *n receives the row count. */
const struct ns_catalog_entry *ns_catalog_all(size_t *n);

/* Usage reasons 0-11: text and the remediation hint from ntlm-events.md. */
struct ns_reason {
    int id;                  /* NtlmUsageId */
    const char *text;        /* reason */
    const char *remediation; /* what an admin does about it */
};
/* Returns the reason row for id, or NULL. */
const struct ns_reason *ns_reason_find(int64_t id);
const struct ns_reason *ns_reason_all(size_t *n);

/* What ns_normalize decided about a raw event. */
enum ns_verdict {
    NS_V_STORE, /* an NTLM event, normalized into *ev */
    NS_V_SKIP,  /* not an NTLM event (another channel or provider) */
    NS_V_REJECT /* an NTLM event that cannot be stored; why[] says why */
};

/*
 * Turns a raw event into a canonical one. On NS_V_STORE *ev holds the event (reset first);
 * on NS_V_REJECT why receives a sentence naming the field at fault. Never fails otherwise,
 * except on memory, where it returns NS_V_REJECT with why "out of memory".
 */
enum ns_verdict ns_normalize(const struct ns_raw *raw, struct ns_event *ev, char *why,
                             size_t whylen);

/* Returns 1 when a raw event belongs to ntlmscope (channel/provider rule of DESIGN.md). */
int ns_raw_is_ntlm(const struct ns_raw *raw);

#endif
