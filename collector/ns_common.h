/*
 * ns_common.h - result codes, logging, size-capped buffers and arenas shared by every
 * ntlmscope library. Nothing here knows about events, SQLite or HTTP.
 */
#ifndef NS_COMMON_H
#define NS_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Result codes: every function that can fail returns one of these. */
enum ns_rc {
    NS_OK = 0,        /* success */
    NS_ENOMEM = -1,   /* an allocation failed */
    NS_ETOOBIG = -2,  /* input passed a size cap */
    NS_EIO = -3,      /* a file or stream could not be read or written */
    NS_EPARSE = -4,   /* input is malformed */
    NS_EINVAL = -5,   /* a caller passed something that makes no sense */
    NS_EDB = -6,      /* SQLite reported an error */
    NS_EABORT = -7,   /* a callback asked to stop */
    NS_ENOTFOUND = -8 /* the thing named does not exist */
};

/* Returns a short English name for a result code ("out of memory", ...). */
const char *ns_rc_str(int rc);

/* Log to stderr with the source file and line: ns_log("cannot open %s", path). */
#define ns_log(...) ns_log_at(__FILE__, __LINE__, __VA_ARGS__)
void ns_log_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------------------------ */
/* Growing byte buffer with a hard cap                                                         */
/* ------------------------------------------------------------------------------------------ */

struct ns_buf {
    char *data; /* bytes, always NUL-terminated when data != NULL */
    size_t len; /* bytes in use, not counting the terminating NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* the buffer refuses to grow past this many bytes (0: 64 MiB) */
};

/* Initialises an empty buffer that refuses to hold more than max bytes. */
void ns_buf_init(struct ns_buf *b, size_t max);
/* Appends len bytes. Returns NS_OK, NS_ETOOBIG past the cap, NS_ENOMEM. */
int ns_buf_add(struct ns_buf *b, const void *data, size_t len);
/* Room for n more bytes at the end (NULL: too big or out of memory); ns_buf_commit(b, k)
 * then adds the k <= n bytes written there. */
char *ns_buf_space(struct ns_buf *b, size_t n);
void ns_buf_commit(struct ns_buf *b, size_t n);
/* Appends a NUL-terminated string. */
int ns_buf_adds(struct ns_buf *b, const char *s);
/* Appends printf-style formatted text (vsnprintf, bounded). */
int ns_buf_printf(struct ns_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void ns_buf_reset(struct ns_buf *b);
/* Releases the memory; the buffer may be reused after ns_buf_init(). NULL is fine. */
void ns_buf_free(struct ns_buf *b);
/* Removes the first n bytes. */
void ns_buf_consume(struct ns_buf *b, size_t n);

/* ------------------------------------------------------------------------------------------ */
/* Arena: many small strings freed at once                                                     */
/* ------------------------------------------------------------------------------------------ */

struct ns_arena_block;
struct ns_arena {
    struct ns_arena_block *head; /* newest block first */
    size_t used;                 /* bytes handed out since the last reset */
    size_t max;                  /* refuse to hand out more than this (0: 16 MiB) */
};

void ns_arena_init(struct ns_arena *a, size_t max);
/* Copies len bytes plus a NUL into the arena. Returns the copy or NULL (cap or memory). */
char *ns_arena_strndup(struct ns_arena *a, const char *s, size_t len);
char *ns_arena_strdup(struct ns_arena *a, const char *s);
/* Forgets every string; keeps the first block for reuse. */
void ns_arena_reset(struct ns_arena *a);
void ns_arena_free(struct ns_arena *a);

/* ------------------------------------------------------------------------------------------ */
/* A set of texts kept in a caller's buffer, found by their hash                               */
/* ------------------------------------------------------------------------------------------ */

struct ns_textset_slot {
    uint64_t hash; /* the caller's hash of the text, never 0; 0: a free slot */
    uint32_t off;  /* where the text's bytes are in the caller's buffer */
    uint32_t len;  /* its length */
    uint32_t id;   /* the caller's number for it */
};
struct ns_textset {
    struct ns_textset_slot *slots; /* cap entries, a power of two */
    size_t cap, used;
};

/* The slot of the len bytes s (hash h, not 0) among the texts at base + off: the one that
 * holds it, or the free one where it goes, which the caller then fills with
 * ns_textset_put. NULL when out of memory. */
struct ns_textset_slot *ns_textset_find(struct ns_textset *t, const char *base, const char *s,
                                        size_t len, uint64_t h);
void ns_textset_put(struct ns_textset *t, struct ns_textset_slot *slot, uint64_t h, uint32_t off,
                    uint32_t len, uint32_t id);
/* Forgets every text, keeping the memory. */
void ns_textset_clear(struct ns_textset *t);
void ns_textset_free(struct ns_textset *t);

/* ------------------------------------------------------------------------------------------ */
/* Conversions                                                                                 */
/* ------------------------------------------------------------------------------------------ */

/* Parses a decimal ("-12", "720") or hexadecimal ("0x3e7") integer, surrounding blanks
 * allowed. Values from 2^63 to 2^64-1 keep their bit pattern. Returns NS_OK or NS_EPARSE. */
int ns_parse_int(const char *s, int64_t *out);
/* Parses an ISO 8601 timestamp "YYYY-MM-DD[T ]hh:mm:ss[.f{0,9}][Z|+hh:mm|-hh:mm]" into
 * microseconds since 1970-01-01 UTC. No zone means UTC. Returns NS_OK or NS_EPARSE. */
int ns_parse_time(const char *s, int64_t *out_us);
/* Parses "YYYY-MM-DD" into days since 1970-01-01. Returns NS_OK or NS_EPARSE. */
int ns_parse_date(const char *s, int64_t *out_days);
/* Writes "2026-03-12T02:56:00.824258Z" (28 bytes incl. NUL) into out. */
void ns_format_time(int64_t us, char out[32]);
/* Writes "2026-03-12" into out. */
void ns_format_date(int64_t days, char out[16]);
/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t ns_days_from_civil(int64_t y, unsigned m, unsigned d);
void ns_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
/* Floor division of microseconds into a day number. */
int64_t ns_day_of(int64_t us);

/* ------------------------------------------------------------------------------------------ */
/* Hashing and randomness                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* SHA-256 of len bytes into out. */
void ns_sha256(const void *data, size_t len, unsigned char out[32]);
/* Lower-case hex of len bytes into out (2 * len + 1 bytes). */
void ns_hex(const unsigned char *in, size_t len, char *out);
/* Fills out with len bytes from the kernel's random source. Returns NS_OK or NS_EIO. */
int ns_random(void *out, size_t len);
/* 1 when the len bytes at a and b are equal; takes the same time whatever they hold. */
int ns_consttime_eq(const void *a, const void *b, size_t len);

/* UTF-8. ns_utf8_put writes code point cp (at most 0x10FFFF) into out (4 bytes) and returns
 * how many bytes it took. ns_utf8_len returns the length of the well-formed sequence at p (n
 * bytes left: 1 for ASCII) and sets *cp, or returns 0 for an invalid, overlong, surrogate or
 * out-of-range sequence. */
size_t ns_utf8_put(char *out, uint32_t cp);
size_t ns_utf8_len(const unsigned char *p, size_t n, uint32_t *cp);

/* Case-insensitive ASCII comparison. */
int ns_strieq(const char *a, const char *b);
/* Copies src into dst (cap > 0 bytes), cut short when it does not fit; always terminated.
 * Returns 1 when src was cut. */
int ns_copy_cut(char *dst, size_t cap, const char *src);

#endif
