-- sipscope schema version 12: each message's parser warnings
-- (decode.Message.Warnings, a bit set: decode.Warning), as the decoder saw
-- them. Some cannot be found again from messages.raw alone: bytes after the
-- body Content-Length announced (ExtraData) are not part of raw, and a
-- header limit (TooManyHeaders) is the import's. Readers OR the column
-- into what parsing raw again gives; 0 for rows stored before this version,
-- which then get only the latter, as before.

ALTER TABLE messages ADD COLUMN warnings INTEGER NOT NULL DEFAULT 0;
