-- sipscope schema version 3: a frame whose bytes end with its message's raw
-- bytes (an unfragmented UDP datagram, a TCP segment carrying just that
-- message) keeps only the bytes before them; tail = 1 says to append
-- messages.raw when reading it back. About halves the database.
ALTER TABLE frames ADD COLUMN tail INTEGER NOT NULL DEFAULT 0;
