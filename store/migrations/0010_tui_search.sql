-- sipscope schema version 10: the terminal UI's "/" search and its
-- User-Agent sort (issue 8).
--
-- dialog_search holds one lower-case line of text per dialog: its Call-ID,
-- From and To (display name, URI, user when the URI lacks it), User-Agent
-- and addresses, joined by a unit separator (char 31) so that a search
-- does not match across two fields: what a user types to find a call, and
-- what a merged continuation does not change (state, status: the filter
-- line has them). Filter.Search is a substring of it: the store reads
-- this narrow table (~130 bytes a dialog) once into memory and then only
-- its new rows, and matches in Go (a few ms at 100,000 dialogs), instead of
-- every message's raw bytes, which is what grep~ reads (seconds).
-- The triggers keep it in step with dialogs, also through the merges of
-- continuations (UPDATE) and the Writer's bulk inserts. lower() folds ASCII
-- only: a search with other letters folds both sides in Go (sipscope_fold).
-- The statements say IF NOT EXISTS because Store.AddPageIndexes runs this
-- file again on scratch stores, which OpenTemp strips of the triggers and
-- the index.
CREATE TABLE IF NOT EXISTS dialog_search (
	dialog_id INTEGER PRIMARY KEY,
	text      TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS dialogs_search_insert AFTER INSERT ON dialogs BEGIN
	INSERT OR REPLACE INTO dialog_search (dialog_id, text) VALUES (new.id, lower(
		new.call_id || char(31) || new.from_display || char(31) || new.from_uri || char(31) ||
		CASE WHEN instr(new.from_uri, new.from_user) THEN '' ELSE new.from_user END || char(31) ||
		new.to_display || char(31) || new.to_uri || char(31) ||
		CASE WHEN instr(new.to_uri, new.to_user) THEN '' ELSE new.to_user END || char(31) ||
		new.user_agent || char(31) || new.src || char(31) || new.dst));
END;
-- Only the columns it holds: counting a continuation (parts) or storing
-- findings leaves it.
CREATE TRIGGER IF NOT EXISTS dialogs_search_update AFTER UPDATE OF call_id, from_display, from_uri, from_user,
	to_display, to_uri, to_user, user_agent, src, dst ON dialogs BEGIN
	INSERT OR REPLACE INTO dialog_search (dialog_id, text) VALUES (new.id, lower(
		new.call_id || char(31) || new.from_display || char(31) || new.from_uri || char(31) ||
		CASE WHEN instr(new.from_uri, new.from_user) THEN '' ELSE new.from_user END || char(31) ||
		new.to_display || char(31) || new.to_uri || char(31) ||
		CASE WHEN instr(new.to_uri, new.to_user) THEN '' ELSE new.to_user END || char(31) ||
		new.user_agent || char(31) || new.src || char(31) || new.dst));
END;
CREATE TRIGGER IF NOT EXISTS dialogs_search_delete AFTER DELETE ON dialogs BEGIN
	DELETE FROM dialog_search WHERE dialog_id = old.id;
END;
-- Dialogs stored before this version (and before AddPageIndexes).
INSERT OR IGNORE INTO dialog_search (dialog_id, text)
	SELECT id, lower(
		call_id || char(31) || from_display || char(31) || from_uri || char(31) ||
		CASE WHEN instr(from_uri, from_user) THEN '' ELSE from_user END || char(31) ||
		to_display || char(31) || to_uri || char(31) ||
		CASE WHEN instr(to_uri, to_user) THEN '' ELSE to_user END || char(31) ||
		user_agent || char(31) || src || char(31) || dst)
	FROM dialogs;
-- The User-Agent sort (o on a ua or User-Agent column), in page order as
-- migration 0009's indexes are.
CREATE INDEX IF NOT EXISTS dialogs_page_ua ON dialogs(user_agent COLLATE NOCASE, id, kind, state, final_status);
