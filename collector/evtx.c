/*
 * evtx.c - Windows .evtx files through libevtx: each record's XML goes through the same
 * SAX2 event parser as event XML, so an exported log works as it is.
 */
#include "ns_parser.h"

#include <libevtx.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_MAX_BYTES (4u << 20) /* one record's XML */

/* Copies libevtx's error text into err. */
static void evtx_error_text(libevtx_error_t *e, char *err, size_t errlen)
{
    char tmp[512];
    if (e && libevtx_error_sprint(e, tmp, sizeof(tmp)) > 0) {
        char *nl = strchr(tmp, '\n');
        if (nl) {
            *nl = '\0';
        }
        ns_copy_cut(err, errlen, tmp);
    } else {
        ns_copy_cut(err, errlen, "libevtx error");
    }
}

/* Reports a record that cannot be read, with libevtx's reason, and frees what it holds. */
static void reject_record(const struct ns_sink *sink, const char *source, const char *where,
                          libevtx_error_t **e, libevtx_record_t **rec, const char *why)
{
    char text[400];
    if (!why) {
        evtx_error_text(*e, text, sizeof(text));
        why = text;
    }
    if (*e) {
        libevtx_error_free(e);
    }
    libevtx_record_free(rec, NULL);
    if (sink->on_reject) {
        sink->on_reject(sink->ctx, source, where, why);
    }
}

int ns_parse_evtx_file(const char *path, const char *source, const struct ns_sink *sink,
                       ns_progress_fn progress, void *progress_ctx, char *err, size_t errlen)
{
    libevtx_file_t *file = NULL;
    libevtx_error_t *e = NULL;
    struct ns_xml *x = NULL;
    char *xml = NULL;   /* one record's XML */
    size_t xml_cap = 0; /* bytes allocated for it */
    int nrec = 0, rc = NS_OK;
    uint64_t rejects_before = 0;
    int file_rejects = 0;

    if (libevtx_file_initialize(&file, &e) != 1) {
        evtx_error_text(e, err, errlen);
        rc = NS_ENOMEM;
        goto out;
    }
    if (libevtx_file_open(file, path, LIBEVTX_OPEN_READ, &e) != 1) {
        char why[400];
        evtx_error_text(e, why, sizeof(why));
        snprintf(err, errlen, "%s: cannot open as EVTX: %s", source, why);
        rc = NS_EIO;
        goto out;
    }
    if (libevtx_file_get_number_of_records(file, &nrec, &e) != 1) {
        char why[400];
        evtx_error_text(e, why, sizeof(why));
        snprintf(err, errlen, "%s: cannot count EVTX records: %s", source, why);
        rc = NS_EPARSE;
        goto out;
    }
    if ((rc = ns_xml_new(&x, source, sink)) != NS_OK) {
        goto out;
    }
    for (int i = 0; i < nrec; i++) {
        libevtx_record_t *rec = NULL;
        size_t size = 0;
        char where[48];
        snprintf(where, sizeof(where), "record %d", i + 1);
        if (libevtx_file_get_record_by_index(file, i, &rec, &e) != 1 ||
            libevtx_record_get_utf8_xml_string_size(rec, &size, &e) != 1 || size == 0) {
            reject_record(sink, source, where, &e, &rec, NULL);
            file_rejects++;
            continue;
        }
        if (size > RECORD_MAX_BYTES) {
            reject_record(sink, source, where, &e, &rec, "record XML larger than 4 MiB");
            file_rejects++;
            continue;
        }
        if (size > xml_cap) {
            char *nx = realloc(xml, size);
            if (!nx) {
                libevtx_record_free(&rec, NULL);
                rc = NS_ENOMEM;
                goto out;
            }
            xml = nx;
            xml_cap = size;
        }
        if (libevtx_record_get_utf8_xml_string(rec, (uint8_t *)xml, size, &e) != 1) {
            reject_record(sink, source, where, &e, &rec, NULL);
            file_rejects++;
            continue;
        }
        libevtx_record_free(&rec, NULL);
        size = strnlen(xml, size);
        rc = ns_xml_parse_event(x, xml, size, where, 1);
        if (rc != NS_OK) {
            goto out;
        }
        if (progress && (i % 1024 == 0 || i + 1 == nrec)) {
            progress(progress_ctx, (uint64_t)i + 1, (uint64_t)nrec);
        }
    }
    if (ns_xml_rejects(x) > rejects_before || file_rejects) {
        rc = NS_EPARSE;
    }
out:
    ns_xml_free(x);
    free(xml);
    if (e) {
        libevtx_error_free(&e);
    }
    if (file) {
        libevtx_file_close(file, NULL);
        libevtx_file_free(&file, NULL);
    }
    return rc;
}
