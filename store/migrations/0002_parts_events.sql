-- sipscope schema version 2: what the correlator added to its records.

-- ICMP errors and similar attached to the dialog's requests.
ALTER TABLE dialogs ADD COLUMN events INTEGER NOT NULL DEFAULT 0;
-- How many records of the Call-ID were merged into this row (1 + continuations).
ALTER TABLE dialogs ADD COLUMN parts INTEGER NOT NULL DEFAULT 1;

-- On a CANCEL transaction, the idx of the INVITE it cancels; -1 otherwise.
ALTER TABLE transactions ADD COLUMN cancels INTEGER NOT NULL DEFAULT -1;
-- 1 when the request opened the dialog (or retried the opening request).
ALTER TABLE transactions ADD COLUMN opening INTEGER NOT NULL DEFAULT 0;
