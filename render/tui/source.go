package tui

import (
	"context"

	"github.com/sipscope/sipscope/correlate"
)

// Query is what the call list shows: the filter line and the search text.
// The UI does not parse them: the Source does (the store's ParseFilter), so
// the filter language has one parser.
type Query struct {
	// Filter is a filter-line expression such as "state=busy from~alice
	// status>=400 kind=call"; "" selects everything.
	Filter string
	// Search is the "/" search text, matched case-insensitively against
	// the dialog's summary fields (Call-ID, From/To users, URIs and
	// display names, User-Agent, addresses), answered in milliseconds;
	// "" matches all.
	Search string
	// Deep searches the raw text of every message instead (any header,
	// the body): seconds over a large store, so the UI runs it on Enter,
	// in the background, and says so.
	Deep bool
	// Sort is a sort key list such as "start" or "-duration" ("" is start).
	Sort string
}

// Source gives the UI its dialogs. Its methods are called from goroutines
// other than the one running the UI, possibly at the same time as each
// other and while the source grows.
type Source interface {
	// Count returns how many dialogs q selects.
	Count(ctx context.Context, q Query) (int, error)
	// Dialogs returns at most limit dialogs q selects, in q's order,
	// skipping the first offset.
	Dialogs(ctx context.Context, q Query, offset, limit int) ([]*correlate.Dialog, error)
	// Messages returns the messages of these Call-IDs' dialogs.
	Messages(ctx context.Context, callIDs []string) ([]*correlate.Message, error)
	// Tally counts what q selects for the stats screen.
	Tally(ctx context.Context, q Query) (Tally, error)
}

// MediaSource is a Source that also has the calls' RTP streams: the call
// flow draws them as bands below the ladder and diagnoses them (the media
// findings), and the mos column shows the worst stream's score. The UI
// works without it (no bands, mos empty). Called like Source's methods.
type MediaSource interface {
	// Streams returns the RTP streams of these Call-IDs' calls.
	Streams(ctx context.Context, callIDs []string) ([]correlate.Stream, error)
}

// SortPreparer is a Source that can make a header column's sort ready
// ahead of the first sort by it (the store reads every dialog's first
// request into an index: seconds at 100,000 dialogs). The UI calls it in
// the background for each header column it shows, when it opens and as
// dialogs arrive, so that sorting by the column answers at once. Called
// like Source's methods; each call reads only the dialogs added since the
// last.
type SortPreparer interface {
	PrepareSort(ctx context.Context, header string) error
}

// Tally is the stats screen: dialogs by state and kind, messages by
// request method and response status, over the dialogs a query selects.
type Tally struct {
	Dialogs, Messages int64
	States, Kinds     map[string]int64
	Methods           map[string]int64 // requests, by method
	Statuses          map[int]int64    // responses, by status code
}

// SaveRequest is one save from the UI (F2/s): which dialogs to write
// where.
type SaveRequest struct {
	// Path is the file to write; its extension names the format, as with
	// `sipscope export -o` (.html, .pcap, .txt ...).
	Path string
	// Groups are the dialogs to write, one ladder per group (an extended
	// flow is one group of several Call-IDs). Nil: every dialog Query
	// selects, one ladder each.
	Groups [][]string
	Query  Query
	// MergePorts draws the ladders with one column per IP address, as
	// the flow shows them (m).
	MergePorts bool
}

// Saver writes a SaveRequest (cmd gives one that is `sipscope export`'s
// code) and says how many dialogs it wrote, in which format. It is
// called from a goroutine other than the UI's.
type Saver func(ctx context.Context, r SaveRequest) (dialogs int, format string, err error)

// Progress is how far the feed of a Source has come, shown on the status
// line: bytes read of a file (Total 0 when unknown, e.g. a live capture),
// messages and dialogs stored.
type Progress struct {
	Done, Total       int64
	Messages, Dialogs int64
	// Live is set by a live capture, which has no bytes to count: the
	// status line shows its own counters instead, as "sipscope capture"'s
	// status line does.
	Live *LiveProgress
	// Finished is set once the feed has ended; Err is why, when it failed.
	Finished bool
	Err      error
}

// LiveProgress is a live capture's status: packets seen, SIP messages
// decoded, dialogs stored, calls in progress (not yet ended, so not in
// the list), and packets lost (the kernel's drops and the queue's).
type LiveProgress struct {
	Packets, SIP, Dialogs, InProgress, Drops int64
	// HEPDropped counts HEP packets refused (not HEP, a wrong password, a
	// flood), apart from the kernel's drops.
	HEPDropped int64
}
