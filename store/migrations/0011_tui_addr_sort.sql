-- sipscope schema version 11: the terminal UI's sort by source,
-- destination and transport (issue 8): o on a src, dst or transport
-- column, sort=src|dst|transport in the filter line. In page order, as
-- migration 0009's indexes are (see there). Addresses sort as the text
-- the store holds ("10.0.0.2:5060"), not numerically: what groups the
-- calls of one peer together, which is what the sort is for.
CREATE INDEX dialogs_page_src ON dialogs(src, id, kind, state, final_status);
CREATE INDEX dialogs_page_dst ON dialogs(dst, id, kind, state, final_status);
CREATE INDEX dialogs_page_transport ON dialogs(transport, id, kind, state, final_status);
