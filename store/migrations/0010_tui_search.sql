-- sipscope schema version 10: the terminal UI's User-Agent sort (issue 8):
-- o on a ua or User-Agent column, sort=user_agent in the filter line. In
-- page order, as migration 0009's indexes are (see there). The "/" search
-- needs no schema: the store reads each dialog's Call-ID, From, To,
-- User-Agent and addresses into memory once and matches there (see
-- Store.searchIDs); a search table kept by triggers cost imports ~40% more
-- CPU for what one background read gives.
CREATE INDEX dialogs_page_ua ON dialogs(user_agent COLLATE NOCASE, id, kind, state, final_status);
