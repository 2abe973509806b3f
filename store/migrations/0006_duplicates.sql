-- sipscope schema version 6: duplicate frames (issue 15). A datagram
-- captured twice (two interfaces, a mirror port) is counted apart from
-- retransmissions: dialogs.duplicates counts them, messages.duplicate
-- marks the second copy (decode.Message.Duplicate).

ALTER TABLE dialogs ADD COLUMN duplicates INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN duplicate INTEGER NOT NULL DEFAULT 0;
