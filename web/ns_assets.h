/*
 * ns_assets.h - the dashboard's files (web/assets), compiled into the binary by
 * web/embed_assets.cmake and served from memory.
 */
#ifndef NS_ASSETS_H
#define NS_ASSETS_H

#include <stddef.h>

/* One embedded file. */
struct ns_asset {
    const char *name;          /* file name, e.g. "app.js" */
    const char *type;          /* Content-Type */
    const unsigned char *data; /* its bytes */
    size_t size;               /* how many */
};

/* Every file of web/assets, sorted by name, ended by an entry with name NULL. */
extern const struct ns_asset ns_assets[];

#endif
