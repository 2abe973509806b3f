-- sipscope schema version 4: one row per message, one per dialog.
--
-- An import spent most of its time in SQLite rows: a message was a row of 41
-- columns plus a frames row per frame, a dialog a row plus a row per
-- transaction. Now:
--   - messages keeps what queries and SQL users select by (dialog, file,
--     order, time, addresses, method, status, CSeq, transaction) and the raw
--     bytes; the rest (Request-URI, reason, From, To, User-Agent...) is in the
--     raw bytes, which Messages parses again anyway. The Call-ID is that of
--     the dialog (JOIN dialogs ON dialogs.id = messages.dialog_id).
--   - messages.frames: the frames that carried the message, a binary blob
--     (see store/blob.go: 36-byte big-endian header per frame, then its bytes).
--   - messages.events: ICMP errors and the like, a JSON array, NULL when none.
--   - messages.hep: the HEP header, a JSON object, NULL when not HEP.
--   - dialogs.transactions: a JSON array of the dialog's transactions.

ALTER TABLE dialogs ADD COLUMN transactions TEXT NOT NULL DEFAULT '[]';
UPDATE dialogs SET transactions = (
	SELECT json_group_array(json_object(
		'idx', t.idx, 'branch', t.branch, 'method', t.method, 'cseq', t.cseq,
		'start_ns', t.start_ns, 'end_ns', t.end_ns, 'final_status', t.final_status,
		'final_reason', t.final_reason, 'messages', t.messages,
		'retransmissions', t.retransmissions, 'legs', json(t.legs),
		'cancels', t.cancels, 'opening', json(iif(t.opening, 'true', 'false'))) ORDER BY t.idx)
	FROM transactions t WHERE t.dialog_id = dialogs.id)
WHERE EXISTS (SELECT 1 FROM transactions t WHERE t.dialog_id = dialogs.id);

CREATE TABLE messages4 (
	id             INTEGER PRIMARY KEY,
	file_id        INTEGER REFERENCES files(id),
	dialog_id      INTEGER NOT NULL REFERENCES dialogs(id) ON DELETE CASCADE,
	seq            INTEGER NOT NULL,  -- capture order across every import
	ts             INTEGER NOT NULL,
	txn            INTEGER NOT NULL DEFAULT -1,  -- idx in dialogs.transactions
	retransmission INTEGER NOT NULL DEFAULT 0,
	leg            TEXT NOT NULL DEFAULT '',
	src            TEXT NOT NULL DEFAULT '',
	dst            TEXT NOT NULL DEFAULT '',
	transport      TEXT NOT NULL DEFAULT '',
	encap          TEXT NOT NULL DEFAULT '',
	method         TEXT NOT NULL DEFAULT '',  -- request method ('' for a response)
	status         INTEGER NOT NULL DEFAULT 0, -- response status (0 for a request)
	cseq           INTEGER NOT NULL DEFAULT 0,
	hep            TEXT,
	events         TEXT,
	frames         BLOB NOT NULL DEFAULT x'',
	raw            BLOB NOT NULL
);

INSERT INTO messages4 (id, file_id, dialog_id, seq, ts, txn, retransmission, leg, src, dst,
	transport, encap, method, status, cseq, hep, events, frames, raw)
SELECT m.id, m.file_id, m.dialog_id, m.seq, m.ts, m.txn, m.retransmission, m.leg, m.src, m.dst,
	m.transport, m.encap, m.method, m.status, m.cseq,
	CASE WHEN m.hep_version <> 0 THEN json_object('version', m.hep_version, 'agent_id', m.hep_agent_id,
		'agent_name', m.hep_agent_name, 'proto', m.hep_proto, 'src', m.hep_src, 'dst', m.hep_dst) END,
	(SELECT CASE WHEN count(*) > 0 THEN json_group_array(json_object(
		'file_id', coalesce(e.file_id, 0), 'frame', e.frame, 'ts', e.ts, 'kind', e.kind,
		'detail', e.detail, 'from_addr', e.from_addr, 'src', e.src, 'dst', e.dst,
		'call_id', e.call_id, 'cseq', e.cseq, 'cseq_method', e.cseq_method,
		'method', e.method) ORDER BY e.id) END
		FROM events e WHERE e.message_id = m.id),
	coalesce((SELECT unhex(group_concat(printf('%016x%016x%016x%08x%08x%08x',
			fr.number, fr.ts, coalesce(fr.file_id, 0), fr.link, fr.orig_len,
			length(fr.data) | (fr.tail << 31)) || hex(fr.data), '' ORDER BY fr.rowid))
		FROM frames fr WHERE fr.message_id = m.id), x''),
	m.raw
FROM messages m;

DROP TABLE frames;
DROP TABLE events;
DROP TABLE transactions;
DROP TABLE messages;
ALTER TABLE messages4 RENAME TO messages;
CREATE INDEX messages_dialog ON messages(dialog_id, seq);
