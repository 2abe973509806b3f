-- sipscope schema version 7: media streams (issue 11). One row per RTP
-- stream (5-tuple + SSRC, correlate.Stream) with its statistics; the RTP
-- packets themselves are not stored. call_id is '' for a stream no SDP
-- announced (found by the RTP heuristic). Written once the capture has
-- been read, so it is not a foreign key of dialogs.

CREATE TABLE streams (
	id             INTEGER PRIMARY KEY,
	call_id        TEXT NOT NULL DEFAULT '',
	src            TEXT NOT NULL,
	dst            TEXT NOT NULL,
	ssrc           INTEGER NOT NULL,
	payload_type   INTEGER NOT NULL DEFAULT -1,
	codec          TEXT NOT NULL DEFAULT '',
	clock_rate     INTEGER NOT NULL DEFAULT 0,
	payload_types  TEXT NOT NULL DEFAULT '[]', -- JSON array, in order of first appearance
	direction      TEXT NOT NULL DEFAULT '',
	link           TEXT NOT NULL DEFAULT '',
	packets        INTEGER NOT NULL DEFAULT 0,
	bytes          INTEGER NOT NULL DEFAULT 0,
	expected       INTEGER NOT NULL DEFAULT 0,
	lost           INTEGER NOT NULL DEFAULT 0,
	out_of_order   INTEGER NOT NULL DEFAULT 0,
	duplicates     INTEGER NOT NULL DEFAULT 0,
	cycles         INTEGER NOT NULL DEFAULT 0,
	jitter_mean_ms REAL NOT NULL DEFAULT 0,
	jitter_max_ms  REAL NOT NULL DEFAULT 0,
	max_delta_ms   REAL NOT NULL DEFAULT 0,
	start_ns       INTEGER NOT NULL DEFAULT 0,
	end_ns         INTEGER NOT NULL DEFAULT 0,
	rtcp           TEXT,                       -- JSON (RTCPStats), NULL when no RTCP was seen
	r_factor       REAL,                       -- NULL when not scored
	mos            REAL,
	dtmf           TEXT NOT NULL DEFAULT '',
	dtmf_events    TEXT NOT NULL DEFAULT '[]'  -- JSON array of DTMFEvent
);
CREATE INDEX streams_call_id ON streams(call_id);
