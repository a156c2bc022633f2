/*
 * mail.c - the weekly summary as a MIME message (multipart/alternative, UTF-8, RFC 2047
 * subject) and its delivery over SMTP with libcurl (STARTTLS or SMTPS, optional login).
 * Header values are checked: CR or LF anywhere refuses the message.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ns_summary.h"

/* Runs the next step only while every step before it succeeded. */
#define STEP(x)                                                                                    \
    do {                                                                                           \
        if (rc == NS_OK) {                                                                         \
            rc = (x);                                                                              \
        }                                                                                          \
    } while (0)

int ns_mail_address_ok(const char *a)
{
    const char *at = strchr(a, '@');
    size_t n = strlen(a);
    if (!at || at == a || !at[1] || strchr(at + 1, '@') || n > 254) {
        return 0;
    }
    for (const char *p = a; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c == '<' || c == '>' || c == ',' || c == '"' || c == ';' || c == 0x7f) {
            return 0;
        }
    }
    return 1;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Appends base64 of len bytes; line_len > 0 breaks lines with CRLF. */
static int put_base64(struct ns_buf *b, const unsigned char *p, size_t len, int line_len)
{
    int rc = NS_OK, col = 0;
    for (size_t k = 0; k < len && rc == NS_OK; k += 3) {
        unsigned v = (unsigned)p[k] << 16 | (k + 1 < len ? (unsigned)p[k + 1] << 8 : 0) |
                     (k + 2 < len ? p[k + 2] : 0);
        char o[4] = {b64[v >> 18 & 63], b64[v >> 12 & 63], k + 1 < len ? b64[v >> 6 & 63] : '=',
                     k + 2 < len ? b64[v & 63] : '='};
        rc = ns_buf_add(b, o, 4);
        col += 4;
        if (line_len && col >= line_len && rc == NS_OK) {
            rc = ns_buf_add(b, "\r\n", 2);
            col = 0;
        }
    }
    if (rc == NS_OK && line_len && col) {
        rc = ns_buf_add(b, "\r\n", 2);
    }
    return rc;
}

/* RFC 2047: an ASCII subject as it is; otherwise UTF-8 "B" encoded-words of at most 39
 * bytes each (cut between characters), folded. */
static int put_subject(struct ns_buf *b, const char *subject)
{
    const unsigned char *s = (const unsigned char *)subject;
    size_t n = strlen(subject), off = 0;
    int ascii = 1, rc = ns_buf_adds(b, "Subject: ");
    for (size_t k = 0; k < n; k++) {
        ascii &= s[k] < 0x80;
    }
    if (ascii && n < 900) {
        STEP(ns_buf_adds(b, subject));
        STEP(ns_buf_add(b, "\r\n", 2));
        return rc;
    }
    while (off < n && rc == NS_OK) {
        size_t take = n - off < 39 ? n - off : 39; /* 52 base64 characters a word */
        while (off + take < n && (s[off + take] & 0xC0) == 0x80) {
            take--; /* never split a character */
        }
        if (off) {
            rc = ns_buf_add(b, "\r\n ", 3);
        }
        STEP(ns_buf_adds(b, "=?UTF-8?B?"));
        STEP(put_base64(b, s + off, take, 0));
        STEP(ns_buf_adds(b, "?="));
        off += take;
    }
    STEP(ns_buf_add(b, "\r\n", 2));
    return rc;
}

static int has_crlf(const char *s)
{
    return s && (strchr(s, '\r') || strchr(s, '\n'));
}

int ns_mail_build(const struct ns_mail *m, const char *subject, const char *text, const char *html,
                  time_t now, struct ns_buf *out, char *err, size_t errlen)
{
    unsigned char rnd[12];
    char boundary[64], id[40], date[64], host[128] = "ntlmscope";
    struct tm tm;
    int rc = NS_OK;
    if (!m->from || !ns_mail_address_ok(m->from) || has_crlf(m->from)) {
        snprintf(err, errlen, "the sender address is not usable");
        return NS_EINVAL;
    }
    if (m->nto < 1) {
        snprintf(err, errlen, "no recipient");
        return NS_EINVAL;
    }
    for (int k = 0; k < m->nto; k++) {
        if (has_crlf(m->to[k]) || !ns_mail_address_ok(m->to[k])) {
            snprintf(err, errlen,
                     "recipient %d is not a usable address (CR, LF, spaces or "
                     "brackets are refused)",
                     k + 1);
            return NS_EINVAL;
        }
    }
    if (!subject || has_crlf(subject)) {
        snprintf(err, errlen, "the subject contains a line break");
        return NS_EINVAL;
    }
    if (ns_random(rnd, sizeof(rnd)) != NS_OK) {
        snprintf(err, errlen, "no random bytes");
        return NS_EIO;
    }
    ns_hex(rnd, 8, id);
    snprintf(boundary, sizeof(boundary), "=_ntlmscope_%s", id);
    ns_hex(rnd + 4, 8, id);
    if (gethostname(host, sizeof(host) - 1) != 0 || !host[0]) {
        snprintf(host, sizeof(host), "ntlmscope");
    }
    for (char *p = host; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-')) {
            *p = '-';
        }
    }
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    rc = ns_buf_printf(out, "From: %s\r\nTo: ", m->from);
    for (int k = 0; k < m->nto && rc == NS_OK; k++) {
        rc = ns_buf_printf(out, "%s%s", k ? ",\r\n " : "", m->to[k]);
    }
    STEP(ns_buf_add(out, "\r\n", 2));
    STEP(put_subject(out, subject));
    STEP(ns_buf_printf(out,
                       "Date: %s\r\nMessage-ID: <%s.%lld@%s>\r\nMIME-Version: 1.0\r\n"
                       "Auto-Submitted: auto-generated\r\n"
                       "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
                       "This is a multi-part message in MIME format.\r\n"
                       "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: base64\r\n\r\n",
                       date, id, (long long)now, host, boundary, boundary));
    STEP(put_base64(out, (const unsigned char *)text, strlen(text), 76));
    STEP(ns_buf_printf(out,
                       "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                       "Content-Transfer-Encoding: base64\r\n\r\n",
                       boundary));
    STEP(put_base64(out, (const unsigned char *)html, strlen(html), 76));
    STEP(ns_buf_printf(out, "--%s--\r\n", boundary));
    if (rc != NS_OK) {
        snprintf(err, errlen, "the message is too large");
    }
    return rc;
}

/* libcurl reads the message from here. */
struct upload {
    const struct ns_buf *msg; /* the message */
    size_t off;               /* bytes sent */
};

static size_t read_msg(char *dst, size_t size, size_t n, void *ctx)
{
    struct upload *u = ctx;
    size_t left = u->msg->len - u->off, take = size * n < left ? size * n : left;
    memcpy(dst, u->msg->data + u->off, take);
    u->off += take;
    return take;
}

/* Reads "user:password" or user and password on two lines. */
static int read_login(const char *path, char *user, size_t un, char *pass, size_t pn)
{
    FILE *f = fopen(path, "r");
    char a[256] = "", b[256] = "";
    char *colon;
    if (!f) {
        return -1;
    }
    if (!fgets(a, sizeof(a), f)) {
        fclose(f);
        return -1;
    }
    if (!fgets(b, sizeof(b), f)) {
        b[0] = '\0';
    }
    fclose(f);
    a[strcspn(a, "\r\n")] = '\0';
    b[strcspn(b, "\r\n")] = '\0';
    if (!b[0] && (colon = strchr(a, ':')) != NULL) {
        *colon = '\0';
        snprintf(b, sizeof(b), "%s", colon + 1);
    }
    snprintf(user, un, "%s", a);
    snprintf(pass, pn, "%s", b);
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    return user[0] ? 0 : -1;
}

int ns_mail_send(const struct ns_mail *m, const struct ns_buf *msg, char *err, size_t errlen)
{
    CURL *c = curl_easy_init();
    struct curl_slist *rcpt = NULL;
    struct upload up = {msg, 0};
    char from[300], user[256] = "", pass[256] = "", curl_err[CURL_ERROR_SIZE] = "";
    const char *tls = m->tls ? m->tls : "required";
    CURLcode cc;
    int rc = NS_OK;
    if (!c) {
        snprintf(err, errlen, "libcurl cannot start");
        return NS_EIO;
    }
    if (!m->smtp_url ||
        (strncmp(m->smtp_url, "smtp://", 7) && strncmp(m->smtp_url, "smtps://", 8))) {
        snprintf(err, errlen, "the SMTP URL must be smtp://HOST:PORT or smtps://HOST:PORT");
        curl_easy_cleanup(c);
        return NS_EINVAL;
    }
    if (m->login_file && read_login(m->login_file, user, sizeof(user), pass, sizeof(pass)) != 0) {
        snprintf(err, errlen, "%s: cannot read a login (user:password)", m->login_file);
        curl_easy_cleanup(c);
        return NS_EIO;
    }
    snprintf(from, sizeof(from), "<%s>", m->from);
    for (int k = 0; k < m->nto; k++) {
        char to[300];
        snprintf(to, sizeof(to), "<%s>", m->to[k]);
        rcpt = curl_slist_append(rcpt, to);
    }
    curl_easy_setopt(c, CURLOPT_URL, m->smtp_url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_msg);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg->len);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (!strncmp(m->smtp_url, "smtp://", 7)) {
        curl_easy_setopt(c, CURLOPT_USE_SSL,
                         !strcmp(tls, "none")  ? (long)CURLUSESSL_NONE
                         : !strcmp(tls, "try") ? (long)CURLUSESSL_TRY
                                               : (long)CURLUSESSL_ALL);
    }
    if (m->ca_file) {
        curl_easy_setopt(c, CURLOPT_CAINFO, m->ca_file);
    }
    if (user[0]) {
        curl_easy_setopt(c, CURLOPT_USERNAME, user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, pass);
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "SMTP: %s%s%s", curl_easy_strerror(cc), curl_err[0] ? ": " : "",
                 curl_err);
        rc = NS_EIO;
    }
    memset(pass, 0, sizeof(pass));
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    return rc;
}

/* Renders with a renderer into a NUL-terminated string (caller frees). */
static char *render(int (*fn)(const struct ns_summary *, FILE *), const struct ns_summary *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        return NULL;
    }
    if (fn(s, f) != NS_OK) {
        fclose(f);
        free(text);
        return NULL;
    }
    fclose(f);
    return text;
}

int ns_summary_send(struct ns_store *reader, struct ns_store *writer, int64_t week_ending,
                    const struct ns_mail *m, char *err, size_t errlen)
{
    struct ns_summary s;
    struct ns_buf msg;
    char subject[256], *text = NULL, *html = NULL, rcpts[2048] = "";
    int rc = ns_summary_build(reader, week_ending, &s);
    if (rc != NS_OK) {
        snprintf(err, errlen, "%s", ns_store_errmsg(reader));
        return rc;
    }
    ns_buf_init(&msg, 64u << 20);
    ns_summary_subject(&s, subject, sizeof(subject));
    text = render(ns_summary_text, &s);
    html = render(ns_summary_html, &s);
    if (!text || !html) {
        snprintf(err, errlen, "out of memory");
        rc = NS_ENOMEM;
    }
    if (rc == NS_OK) {
        rc = ns_mail_build(m, subject, text, html, time(NULL), &msg, err, errlen);
    }
    if (rc == NS_OK) {
        rc = ns_mail_send(m, &msg, err, errlen);
    }
    if (rc == NS_OK && writer) {
        size_t used = 0;
        struct timespec ts;
        for (int k = 0; k < m->nto; k++) {
            used += (size_t)snprintf(rcpts + used, used < sizeof(rcpts) ? sizeof(rcpts) - used : 0,
                                     "%s%s", k ? "," : "", m->to[k]);
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        if ((rc = ns_summary_mark_sent(writer, week_ending,
                                       (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, rcpts)) !=
            NS_OK) {
            snprintf(err, errlen, "sent, but not recorded: %s", ns_store_errmsg(writer));
        }
    }
    free(text);
    free(html);
    ns_buf_free(&msg);
    ns_summary_free(&s);
    return rc;
}
