-- sipscope schema version 6: duplicate frames (issue 15). A datagram
-- captured twice (two interfaces, a mirror port) is counted apart from
-- retransmissions, in dialogs.duplicates.

ALTER TABLE dialogs ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
