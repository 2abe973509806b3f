-- sipscope schema version 8: each dialog's findings in brief (issue 10), as
-- `sipscope calls` lists them: findings counts what the rules of `sipscope
-- diagnose` (default thresholds) found, worst is the code of the worst finding
-- and worst_severity its severity ('' when none). findings is -1 when the
-- rules have not run on the dialog's messages (rows stored before this
-- version, continuations merged into a stored dialog): readers then run them
-- on the stored messages.

ALTER TABLE dialogs ADD COLUMN findings INTEGER NOT NULL DEFAULT -1;
ALTER TABLE dialogs ADD COLUMN worst TEXT NOT NULL DEFAULT '';
ALTER TABLE dialogs ADD COLUMN worst_severity TEXT NOT NULL DEFAULT '';
