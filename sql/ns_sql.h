/*
 * ns_sql.h - the SQL files of sql/, compiled into the binary by sql/embed.cmake.
 */
#ifndef NS_SQL_H
#define NS_SQL_H

/* One embedded file. */
struct ns_sql_file {
    const char *name; /* file name, e.g. "schema.sql" */
    const char *text; /* its content, NUL-terminated */
};

/* Every .sql file of sql/, sorted by name, ended by {NULL, NULL}. */
extern const struct ns_sql_file ns_sql_files[];

#endif
