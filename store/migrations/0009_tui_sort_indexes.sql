-- sipscope schema version 9: indexes for the terminal UI's sort columns
-- (issue 8). The call list reads one screenful at a time with LIMIT and
-- OFFSET (store.Page); without an index on the sort column SQLite sorts
-- every dialog for each page, ~600 ms at 100,000 dialogs. With one, a page
-- walks the index (forwards or backwards: Page breaks ties by id in the
-- direction of the last key, which an index on one column gives for free,
-- as the rowid ends every index entry). start_ns, final_status, state,
-- kind and call_id have theirs since 0001. from/to sort case-insensitively
-- (sortKeys in query.go), hence the NOCASE indexes.
CREATE INDEX dialogs_duration ON dialogs(duration_ns);
CREATE INDEX dialogs_messages ON dialogs(messages);
CREATE INDEX dialogs_retransmissions ON dialogs(retransmissions);
CREATE INDEX dialogs_setup ON dialogs(setup_ns);
CREATE INDEX dialogs_answer ON dialogs(answer_ns);
CREATE INDEX dialogs_from_nocase ON dialogs(from_user COLLATE NOCASE, from_uri COLLATE NOCASE);
CREATE INDEX dialogs_to_nocase ON dialogs(to_user COLLATE NOCASE, to_uri COLLATE NOCASE);
