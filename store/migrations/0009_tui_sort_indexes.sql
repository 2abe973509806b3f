-- sipscope schema version 9: indexes for the terminal UI's sort columns
-- (issue 8). The call list reads one screenful at a time with LIMIT and
-- OFFSET (store.Page). Without an index in the sort order SQLite sorts
-- every dialog for each page (~600 ms at 100,000 dialogs, more with a
-- filter); with one, a page walks the index, forwards or backwards (Page
-- breaks ties by id in the direction of the last key). Each index holds
-- id next to its sort column, so that its order is the page's order, and
-- then kind, state and final_status, so that a filtered deep page (state=
-- busy sort=-duration, 90,000 rows down) is decided inside the index
-- without reading the rows it skips. Page names the index (INDEXED BY):
-- without statistics SQLite prefers the narrower dialogs_start or the
-- filter's own index and a sort. from/to sort case-insensitively
-- (sortKeys in query.go), hence COLLATE NOCASE; they end with the
-- display name so that they hold every column of a from~/to~ filter and
-- counting one (a substring match: no index can seek it) scans an index,
-- not the table. Scratch stores (OpenTemp)
-- drop them, as they drop the filter indexes; the UI adds them back
-- (Store.AddPageIndexes).
CREATE INDEX dialogs_page_start ON dialogs(start_ns, id, kind, state, final_status);
CREATE INDEX dialogs_page_duration ON dialogs(duration_ns, id, kind, state, final_status);
CREATE INDEX dialogs_page_messages ON dialogs(messages, id, kind, state, final_status);
CREATE INDEX dialogs_page_retransmissions ON dialogs(retransmissions, id, kind, state, final_status);
CREATE INDEX dialogs_page_setup ON dialogs(setup_ns, id, kind, state, final_status);
CREATE INDEX dialogs_page_answer ON dialogs(answer_ns, id, kind, state, final_status);
CREATE INDEX dialogs_page_from ON dialogs(from_user COLLATE NOCASE, from_uri COLLATE NOCASE, id, kind, state, final_status, from_display);
CREATE INDEX dialogs_page_to ON dialogs(to_user COLLATE NOCASE, to_uri COLLATE NOCASE, id, kind, state, final_status, to_display);
