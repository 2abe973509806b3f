-- sipscope schema version 1.
-- Times are integer nanoseconds since the Unix epoch, UTC (0 = unknown);
-- durations are integer nanoseconds (negative = does not apply).

CREATE TABLE files (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL,              -- as the user gave it ("-" for standard input)
	path        TEXT NOT NULL DEFAULT '',   -- absolute path at import time
	size        INTEGER NOT NULL DEFAULT 0,
	fingerprint TEXT,                       -- size + SHA-256 of the first and last MiB; NULL when not fingerprinted
	imported    INTEGER NOT NULL,           -- when the import started
	complete    INTEGER NOT NULL DEFAULT 0, -- 1 once the import finished
	messages    INTEGER NOT NULL DEFAULT 0  -- SIP messages stored from this file
);
CREATE UNIQUE INDEX files_fingerprint ON files(fingerprint) WHERE fingerprint IS NOT NULL;

-- One row per Call-ID: records handed on again for the same Call-ID are merged.
CREATE TABLE dialogs (
	id              INTEGER PRIMARY KEY,
	call_id         TEXT NOT NULL UNIQUE,
	kind            TEXT NOT NULL,
	state           TEXT NOT NULL,
	final_status    INTEGER NOT NULL DEFAULT 0,
	final_reason    TEXT NOT NULL DEFAULT '',
	from_display    TEXT NOT NULL DEFAULT '',
	from_uri        TEXT NOT NULL DEFAULT '',
	from_user       TEXT NOT NULL DEFAULT '',
	from_host       TEXT NOT NULL DEFAULT '',
	from_tag        TEXT NOT NULL DEFAULT '',
	to_display      TEXT NOT NULL DEFAULT '',
	to_uri          TEXT NOT NULL DEFAULT '',
	to_user         TEXT NOT NULL DEFAULT '',
	to_host         TEXT NOT NULL DEFAULT '',
	to_tag          TEXT NOT NULL DEFAULT '',
	src             TEXT NOT NULL DEFAULT '',
	dst             TEXT NOT NULL DEFAULT '',
	transport       TEXT NOT NULL DEFAULT '',
	messages        INTEGER NOT NULL DEFAULT 0,
	retransmissions INTEGER NOT NULL DEFAULT 0,
	start_ns        INTEGER NOT NULL DEFAULT 0,
	end_ns          INTEGER NOT NULL DEFAULT 0,
	setup_ns        INTEGER NOT NULL DEFAULT -1,
	answer_ns       INTEGER NOT NULL DEFAULT -1,
	duration_ns     INTEGER NOT NULL DEFAULT -1,
	q850_cause      INTEGER NOT NULL DEFAULT 0,
	user_agent      TEXT NOT NULL DEFAULT '',
	legs            TEXT NOT NULL DEFAULT '[]'  -- JSON array of To tags
);
CREATE INDEX dialogs_kind ON dialogs(kind);
CREATE INDEX dialogs_state ON dialogs(state);
CREATE INDEX dialogs_final_status ON dialogs(final_status);
CREATE INDEX dialogs_start ON dialogs(start_ns);
CREATE INDEX dialogs_from_user ON dialogs(from_user);
CREATE INDEX dialogs_to_user ON dialogs(to_user);

CREATE TABLE transactions (
	dialog_id       INTEGER NOT NULL REFERENCES dialogs(id) ON DELETE CASCADE,
	idx             INTEGER NOT NULL,
	branch          TEXT NOT NULL DEFAULT '',
	method          TEXT NOT NULL DEFAULT '',
	cseq            INTEGER NOT NULL DEFAULT 0,
	start_ns        INTEGER NOT NULL DEFAULT 0,
	end_ns          INTEGER NOT NULL DEFAULT 0,
	final_status    INTEGER NOT NULL DEFAULT 0,
	final_reason    TEXT NOT NULL DEFAULT '',
	messages        INTEGER NOT NULL DEFAULT 0,
	retransmissions INTEGER NOT NULL DEFAULT 0,
	legs            TEXT NOT NULL DEFAULT '[]',
	PRIMARY KEY (dialog_id, idx)
) WITHOUT ROWID;

CREATE TABLE messages (
	id             INTEGER PRIMARY KEY,
	file_id        INTEGER REFERENCES files(id),
	dialog_id      INTEGER NOT NULL REFERENCES dialogs(id) ON DELETE CASCADE,
	seq            INTEGER NOT NULL,  -- capture order across every import
	ts             INTEGER NOT NULL,
	call_id        TEXT NOT NULL,
	txn            INTEGER NOT NULL DEFAULT -1,
	retransmission INTEGER NOT NULL DEFAULT 0,
	leg            TEXT NOT NULL DEFAULT '',
	src            TEXT NOT NULL DEFAULT '',
	dst            TEXT NOT NULL DEFAULT '',
	transport      TEXT NOT NULL DEFAULT '',
	encap          TEXT NOT NULL DEFAULT '',
	request        INTEGER NOT NULL DEFAULT 0,
	method         TEXT NOT NULL DEFAULT '',
	request_uri    TEXT NOT NULL DEFAULT '',
	status         INTEGER NOT NULL DEFAULT 0,
	reason         TEXT NOT NULL DEFAULT '',
	version        TEXT NOT NULL DEFAULT '',
	cseq           INTEGER NOT NULL DEFAULT 0,
	cseq_method    TEXT NOT NULL DEFAULT '',
	from_display   TEXT NOT NULL DEFAULT '',
	from_uri       TEXT NOT NULL DEFAULT '',
	from_user      TEXT NOT NULL DEFAULT '',
	from_host      TEXT NOT NULL DEFAULT '',
	from_tag       TEXT NOT NULL DEFAULT '',
	to_display     TEXT NOT NULL DEFAULT '',
	to_uri         TEXT NOT NULL DEFAULT '',
	to_user        TEXT NOT NULL DEFAULT '',
	to_host        TEXT NOT NULL DEFAULT '',
	to_tag         TEXT NOT NULL DEFAULT '',
	user_agent     TEXT NOT NULL DEFAULT '',
	size           INTEGER NOT NULL DEFAULT 0,
	warnings       INTEGER NOT NULL DEFAULT 0,
	hep_version    INTEGER NOT NULL DEFAULT 0,  -- 0 = not HEP
	hep_agent_id   INTEGER NOT NULL DEFAULT 0,
	hep_agent_name TEXT NOT NULL DEFAULT '',
	hep_proto      INTEGER NOT NULL DEFAULT 0,
	hep_src        TEXT NOT NULL DEFAULT '',
	hep_dst        TEXT NOT NULL DEFAULT '',
	raw            BLOB NOT NULL
);
CREATE INDEX messages_dialog ON messages(dialog_id, seq);

-- The captured frames that carried each message (every IP fragment and TCP
-- segment), for per-call pcap export. A segment that carried two messages
-- is stored once per message; Frames removes the duplicates.
CREATE TABLE frames (
	message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	file_id    INTEGER REFERENCES files(id),
	number     INTEGER NOT NULL,
	ts         INTEGER NOT NULL,
	link       INTEGER NOT NULL,
	orig_len   INTEGER NOT NULL,
	data       BLOB NOT NULL
);
CREATE INDEX frames_message ON frames(message_id);

-- Linked legs, as the correlator found them; read in both directions.
CREATE TABLE links (
	call_id        TEXT NOT NULL,
	linked_call_id TEXT NOT NULL,
	PRIMARY KEY (call_id, linked_call_id)
) WITHOUT ROWID;
CREATE INDEX links_reverse ON links(linked_call_id, call_id);

-- ICMP errors and similar that quoted a message.
CREATE TABLE events (
	id          INTEGER PRIMARY KEY,
	message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	file_id     INTEGER REFERENCES files(id),
	frame       INTEGER NOT NULL DEFAULT 0,
	ts          INTEGER NOT NULL DEFAULT 0,
	kind        TEXT NOT NULL DEFAULT '',
	detail      TEXT NOT NULL DEFAULT '',
	from_addr   TEXT NOT NULL DEFAULT '',
	src         TEXT NOT NULL DEFAULT '',
	dst         TEXT NOT NULL DEFAULT '',
	call_id     TEXT NOT NULL DEFAULT '',
	cseq        INTEGER NOT NULL DEFAULT 0,
	cseq_method TEXT NOT NULL DEFAULT '',
	method      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_message ON events(message_id);
