package store

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Errors callers test with errors.Is.
var (
	// ErrAlreadyImported means a file with the same content fingerprint was
	// imported into the store before.
	ErrAlreadyImported = errors.New("already imported")
	// ErrInterrupted means an earlier import of the same file did not finish,
	// so the store holds part of it.
	ErrInterrupted = errors.New("an earlier import of it was interrupted")
	// ErrNotFound means no dialog has the Call-ID asked for.
	ErrNotFound = errors.New("not found")
	// ErrNotDatabase means the file is not a sipscope database.
	ErrNotDatabase = errors.New("not a sipscope database")
	// ErrNewerSchema means the database was written by a newer sipscope.
	ErrNewerSchema = errors.New("database schema is newer than this sipscope")
	// ErrNoMessages means the query needs message bodies but the store keeps
	// dialogs only (Options.DialogsOnly).
	ErrNoMessages = errors.New("this store keeps dialogs only, not messages")
)

// Options configure a Store. The zero value is a durable store that keeps
// everything.
type Options struct {
	// ReadOnly opens an existing database for queries only: the file must
	// exist, no migration runs and writes fail.
	ReadOnly bool
	// DialogsOnly makes Writers keep dialogs and links but not messages,
	// frames, events or transactions: enough for listing calls, fast on large
	// captures. Queries that need messages (Filter.Grep, Messages, Frames)
	// return ErrNoMessages.
	DialogsOnly bool
	// Scratch turns off fsync (synchronous=off) for a database that is
	// thrown away after use; a crash may corrupt it.
	Scratch bool
	// ReadWhileWriting keeps a scratch store's write-ahead log, for one
	// that is read while its Writer writes (the terminal UI's list while
	// a file loads or a capture runs). Without a journal the Writer holds
	// the file's lock for most of each batch (its small cache spills
	// pages early) and a reader waits for a gap between batches: the
	// UI's count of a 500,000-call load took up to 4 s. With the WAL a
	// reader sees the last committed batch at once.
	ReadWhileWriting bool
	// DeferIndexes lets a Writer of a database without dialogs drop the
	// secondary indexes of dialogs and build them when it closes (see
	// deferIndexes): for an import, whose readers come after it. A
	// database whose import was killed gets them back at the next Open
	// that may write.
	DeferIndexes bool
	// BatchMessages is how many messages a Writer inserts per transaction
	// (default 20000; BatchInterval usually comes first).
	BatchMessages int
	// BatchInterval is the longest a Writer keeps a transaction open before
	// committing, so readers see progress (default 200ms).
	BatchInterval time.Duration
}

func (o Options) withDefaults() Options {
	if o.BatchMessages <= 0 {
		o.BatchMessages = 20000
	}
	if o.BatchInterval <= 0 {
		o.BatchInterval = 200 * time.Millisecond
	}
	return o
}

// Store is a sipscope database: captured files, messages with the frames
// that carried them, dialogs, transactions and links.
//
// A Store is safe for concurrent use by several goroutines. Queries may run
// while a Writer writes: the database is in WAL mode, so readers see the
// batches committed so far.
type Store struct {
	db     *sql.DB
	path   string
	opts   Options
	remove bool // delete the file on Close (OpenTemp)

	mu    sync.Mutex
	files map[string]int64 // input name -> files.id, for Writers

	headers headerIndexes // header sort indexes, built on the first sort by each (headersort.go)
	search  searchCache   // Filter.Search's lines, read on the first search (or PrepareSearch)

	// stmts are the prepared statements of the queries run once per
	// dialog read (Dialog, Messages, Streams, Frames, ...), by query text:
	// SQLite took longer to prepare them than to run them on one call's
	// rows (its parser was a third of exporting 50,000 calls one ladder
	// at a time). The texts come from a fixed set: Call-IDs are passed as
	// one argument.
	stmts sync.Map // string -> *sql.Stmt
}

// query runs a query of the fixed set (see stmts) with a statement
// prepared once.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for one row; an error preparing comes from Scan.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.prepared(ctx, q)
	if err != nil {
		return s.db.QueryRowContext(ctx, q, args...) // Scan reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}

func (s *Store) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if old, loaded := s.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return old.(*sql.Stmt), nil
	}
	return st, nil
}

// Version is the newest schema version this package knows: the number of
// its last migration (numbers may have gaps: each feature takes its own).
func Version() int {
	ms := migrations()
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. Their file names
// start with the version number: 0001_init.sql, 0002_....sql.
func migrations() []migration {
	ents, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil
	}
	var ms []migration
	for _, e := range ents {
		n := e.Name()
		num, _, ok := strings.Cut(n, "_")
		if !ok || !strings.HasSuffix(n, ".sql") {
			continue
		}
		v, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		b, err := migrationFS.ReadFile("migrations/" + n)
		if err != nil {
			continue
		}
		ms = append(ms, migration{version: v, name: n, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms
}

// pragmas are the settings of every connection of a Store, in the order
// they are applied (journal_mode before the rest): the pooled ones get
// them in their DSN, the Writer's own connection (rawConn) runs them.
func pragmas(o Options) []string {
	// 32 MiB: a whole batch fits before it spills to the WAL.
	sync, journal, cache := "normal", "wal", "-32768"
	if o.Scratch {
		// Pages can go to the file (the OS caches it) at any time: a small
		// cache keeps the process small.
		cache = "-4096"
		// Written once by one Writer, read after it, deleted after use:
		// no journal (a failed import throws the file away), so every
		// page is written once instead of to the WAL and then back.
		sync, journal = "off", "off"
		if o.ReadWhileWriting {
			journal = "wal"
		}
	}
	p := []string{
		"busy_timeout(5000)",
		"journal_mode(" + journal + ")",
		// Checkpoint every 512 pages: 32 MiB of WAL with the 64 KiB pages
		// of new databases (2 MiB with 4 KiB pages of older ones). A bulk
		// import then rewrites the same b-tree pages seldom, and what is
		// left to checkpoint when the import closes the database (which
		// nothing overlaps) stays small.
		"wal_autocheckpoint(512)",
		"foreign_keys(1)",
		"cache_size(" + cache + ")",
		"synchronous(" + sync + ")",
		// A multi-row INSERT keeps a statement journal (the pages it
		// changed, to undo it alone on a constraint error): in memory it
		// costs a copy, in a temporary file a write per 64 KiB page.
		"temp_store(memory)",
	}
	if o.ReadOnly {
		p = append(p, "query_only(1)")
	}
	return p
}

// passPragmas are pragmas(o) for a connection of its own that makes one
// pass over every dialog after an import (restoreIndexes, SetDiagnoses)
// and is closed after it. Such a pass reads and writes each page about
// once, so a 4 MiB cache does it as fast as the pooled connections' 32
// MiB, which a new connection would fill on top of theirs at the end of
// the import, its peak (500,000 calls: 465 -> 405 MB with both passes;
// 50,000: 340 -> 300 MB). runsToFile puts the runs of the sorter (CREATE
// INDEX) in temporary files instead of memory (see restoreIndexes).
func passPragmas(o Options, runsToFile bool) []string {
	p := append(pragmas(o), "cache_size(-4096)")
	if runsToFile {
		p = append(p, "temp_store(file)")
	}
	return p
}

// dsn builds the connection string. Per-connection pragmas must be in the
// DSN: a PRAGMA executed once would configure one pooled connection only.
// The path is given as a file: URI so that '?', '#' and '%' in file names
// survive.
func dsn(path string, o Options) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	var q []string
	for _, p := range pragmas(o) {
		q = append(q, "_pragma="+p)
	}
	q = append(q, "_txlock=immediate")
	return "file:" + esc + "?" + strings.Join(q, "&")
}

var sqliteMagic = []byte("SQLite format 3\x00")

// checkFile tells apart a missing file, an empty one (SQLite makes a new
// database of it: isNew), a SQLite file and anything else.
func checkFile(path string, readOnly bool) (isNew bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if readOnly {
			return false, fmt.Errorf("store: %s: no such database", path)
		}
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	if st.IsDir() {
		return false, fmt.Errorf("store: %s is a directory, not a database", path)
	}
	if st.Size() == 0 {
		if readOnly {
			return false, fmt.Errorf("store: %s is empty: %w", path, ErrNotDatabase)
		}
		return true, nil
	}
	head := make([]byte, len(sqliteMagic))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, sqliteMagic) {
		return false, fmt.Errorf("store: %s is not a SQLite file: %w", path, ErrNotDatabase)
	}
	return false, nil
}

// pageSize is the page size of new databases. Rows are messages of a few
// hundred bytes written in bulk: large pages waste less space at their
// ends and an import writes them (to the WAL, then to the database) in a
// sixteenth of the system calls that 4 KiB pages take.
const pageSize = 65536

// create makes a new database file with pageSize pages in WAL mode. The
// page size must be set before the first write fixes it, and the DSN's
// pragmas run in an order that puts journal_mode first.
func create(path string) error {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	db, err := sql.Open("sqlite", "file:"+esc)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err != nil {
		return err
	}
	if _, err := db.Exec("PRAGMA journal_mode = wal"); err != nil {
		return err
	}
	return db.Close()
}

// Open opens the database at path, creating it unless opts.ReadOnly, and
// brings its schema up to date. A database written by a newer sipscope, or
// a file that is not a sipscope database, is refused with an error naming
// the file.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	isNew, err := checkFile(path, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	if isNew && !opts.Scratch {
		if err := create(path); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", path, err)
		}
	}
	db, err := sql.Open("sqlite", dsn(path, opts))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, opts: opts, files: make(map[string]int64)}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	if !opts.ReadOnly {
		// An import killed before it built the indexes it deferred.
		if err := s.restoreIndexes(context.Background()); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: %s: %w", path, err)
		}
	}
	return s, nil
}

// OpenTemp creates a database in a new temporary file under dir (os.TempDir
// when dir is ""); Close deletes it. It is for commands that analyse
// captures without --db and must leave nothing behind; Scratch is implied,
// and the filter indexes are left out (queries scan instead).
func OpenTemp(dir string, opts Options) (*Store, error) {
	f, err := os.CreateTemp(dir, "sipscope-*.db")
	if err != nil {
		where := dir
		if where == "" {
			where = os.TempDir() // $TMPDIR, else /tmp
		}
		return nil, fmt.Errorf("store: no scratch database in %s (TMPDIR names the folder): %w", where, err)
	}
	name := f.Name()
	f.Close()
	opts.ReadOnly = false
	opts.Scratch = true
	s, err := Open(name, opts)
	if err != nil {
		removeDB(name)
		return nil, err
	}
	s.remove = true
	// A scratch store is written once and scanned once or twice: the
	// filter indexes cost more to maintain on insert than they save.
	// dialogs_start stays: the default order (start) then reads the
	// index instead of sorting every row after the import, and dialogs
	// arrive nearly in start order, so keeping it costs little, in the
	// writer, which runs beside decoding.
	for _, ix := range append([]string{"dialogs_kind", "dialogs_state", "dialogs_final_status",
		"dialogs_from_user", "dialogs_to_user"}, pageIndexNames()...) {
		if _, err := s.db.Exec("DROP INDEX IF EXISTS " + ix); err != nil {
			s.Close()
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	return s, nil
}

func removeDB(path string) {
	for _, suf := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suf)
	}
}

// Path returns the database file name as given to Open.
func (s *Store) Path() string { return s.path }

// Close closes the database (and deletes it when it came from OpenTemp).
// Writers must be closed first.
func (s *Store) Close() error {
	s.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	err := s.db.Close()
	if s.remove {
		removeDB(s.path)
	}
	if err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// migrate applies the migrations the database lacks, each in its own
// transaction recorded in schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	ms := migrations()
	known := Version()
	have, err := s.schemaVersion(ctx)
	if err != nil {
		return err
	}
	if have > known {
		return fmt.Errorf("store: %s has schema version %d, this sipscope knows up to %d; upgrade sipscope: %w",
			s.path, have, known, ErrNewerSchema)
	}
	if have == known {
		return nil
	}
	if s.opts.ReadOnly {
		return fmt.Errorf("store: %s has schema version %d, this sipscope needs %d; open it for writing (import) to upgrade it",
			s.path, have, known)
	}
	for _, m := range ms {
		if m.version <= have {
			continue
		}
		if err := s.apply(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// schemaVersion reads the newest applied migration; 0 for a new database.
// A database with tables but no schema_migrations is someone else's.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations'`).Scan(&n)
	if err != nil {
		if strings.Contains(err.Error(), "not a database") {
			return 0, fmt.Errorf("store: %s is not a SQLite file: %w", s.path, ErrNotDatabase)
		}
		return 0, fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if n == 0 {
		var tables int
		if err := s.db.QueryRowContext(ctx,
			`SELECT count(*) FROM sqlite_schema WHERE type = 'table'`).Scan(&tables); err != nil {
			return 0, fmt.Errorf("store: open %s: %w", s.path, err)
		}
		if tables > 0 {
			return 0, fmt.Errorf("store: %s is a SQLite database of another program: %w", s.path, ErrNotDatabase)
		}
		return 0, nil
	}
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: open %s: %w", s.path, err)
	}
	return int(v.Int64), nil
}

func (s *Store) apply(ctx context.Context, m migration) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate %s to %d: %w", s.path, m.version, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT NOT NULL,
		applied INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate %s to %d: %w", s.path, m.version, err)
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("store: migrate %s to %d (%s): %w", s.path, m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
		m.version, m.name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("store: migrate %s to %d: %w", s.path, m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate %s to %d: %w", s.path, m.version, err)
	}
	return nil
}

// Counts are the sizes of a store, for a summary line.
type Counts struct {
	Files    int64
	Messages int64 // stored messages (0 in a dialogs-only store)
	Dialogs  int64
}

// Counts returns how many files, messages and dialogs the store holds.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM files),
		(SELECT count(*) FROM messages),
		(SELECT count(*) FROM dialogs)`).Scan(&c.Files, &c.Messages, &c.Dialogs)
	if err != nil {
		return c, fmt.Errorf("store: counts: %w", err)
	}
	return c, nil
}
