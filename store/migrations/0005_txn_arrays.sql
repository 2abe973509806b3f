-- sipscope schema version 5: dialogs.transactions holds one JSON array per
-- transaction, its fields by position, instead of one object: the names
-- were two thirds of the column, and the column a seventh of a database
-- (and of an import's time). Each element is
--
--   [idx, branch, method, cseq, start_ns, duration_ns, final_status,
--    final_reason, messages, retransmissions, legs, cancels, opening]
--
-- duration_ns = end_ns - start_ns; legs a JSON array of To tags; cancels
-- the idx of the INVITE a CANCEL cancels (-1 for none); opening 1 or 0.
-- Read one field in SQL with
--   SELECT t.value ->> '$[2]' FROM dialogs, json_each(dialogs.transactions) t;

UPDATE dialogs SET transactions = (
	SELECT json_group_array(json_array(
		t.value ->> 'idx', t.value ->> 'branch', t.value ->> 'method', t.value ->> 'cseq',
		t.value ->> 'start_ns', (t.value ->> 'end_ns') - (t.value ->> 'start_ns'),
		t.value ->> 'final_status', t.value ->> 'final_reason', t.value ->> 'messages',
		t.value ->> 'retransmissions', json(coalesce(t.value -> 'legs', '[]')), t.value ->> 'cancels',
		iif(t.value ->> 'opening', 1, 0)) ORDER BY t.key)
	FROM json_each(dialogs.transactions) t)
WHERE transactions <> '[]';
