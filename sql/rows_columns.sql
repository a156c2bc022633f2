-- The columns of the table-valued function ns_rows(src) (store/rows.c): rows a batch holds in
-- memory, written to a rollup table by one statement; src is the rows, bound by the store.
CREATE TABLE x(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, src HIDDEN)
