// Package store keeps captures in a SQLite database (modernc.org/sqlite,
// pure Go): the files imported, every SIP message with its raw bytes and
// the frames that carried it, dialogs (one row per Call-ID), transactions,
// links between legs and ICMP events.
//
// The schema is built by numbered migrations embedded in the binary
// (migrations/NNNN_name.sql), each applied in a transaction and recorded in
// schema_migrations; a database written by a newer sipscope is refused.
// Per-connection settings (WAL, busy timeout, foreign keys, synchronous)
// are in the DSN so every pooled connection gets them; a Writer has a
// connection of its own with the same settings, driven through SQLite's C
// API (modernc.org/sqlite/lib) rather than database/sql, which binds
// values at a third of the cost (see rawConn). Times are integer
// nanoseconds UTC.
//
// Writing goes through a Writer, which implements correlate.Sink and
// batches inserts in large transactions. Reading works while a Writer
// writes: readers see the batches committed so far. Queries stream
// (Dialogs returns an iterator) so a store of any size is queried, not
// loaded.
//
// A Store is safe for concurrent use; a Writer is not, and a Store has one
// Writer at a time. The package does not log and starts no goroutines.
//
// Example: import, then list the busy calls.
//
//	s, err := store.Open("calls.db", store.Options{})
//	if err != nil { return err }
//	defer s.Close()
//	if _, err := s.AddFile(ctx, "trace.pcap"); errors.Is(err, store.ErrAlreadyImported) {
//		// skip it, say so
//	}
//	w, err := s.Writer(ctx)
//	if err != nil { return err }
//	c := correlate.New(correlate.Options{}, w)
//	// ... decode trace.pcap, feeding c ...
//	if err := c.Flush(); err != nil { w.Abort(); return err }
//	if err := w.Close(); err != nil { return err }
//
//	f := store.Filter{Kind: []correlate.Kind{correlate.KindCall}, Status: "486,600", Sort: "-start"}
//	for d, err := range s.Dialogs(ctx, f) {
//		if err != nil { return err }
//		fmt.Println(d.CallID, d.State, d.FinalStatus)
//	}
//
// For a one-off analysis that must leave nothing behind, OpenTemp makes a
// scratch database that Close deletes; with Options.DialogsOnly it keeps
// only dialog rows and links, which is what listing calls needs.
package store
