package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sipscope/sipscope/decode"
)

// benchCapture is the big SIPp capture the benchmarks read: $SIPSCOPE_BENCH,
// else the 50,000-call file scripts/mkbench.sh makes. Benchmarks skip when
// it is absent (it is never committed).
func benchCapture(b *testing.B) string {
	p := os.Getenv("SIPSCOPE_BENCH")
	if p == "" {
		p = filepath.Join(os.TempDir(), "sipscope-bench", "sipp-50000-calls.pcap")
	}
	if _, err := os.Stat(p); err != nil {
		b.Skipf("no benchmark capture %s (make it with scripts/mkbench.sh, or set SIPSCOPE_BENCH)", p)
	}
	return p
}

// BenchmarkDecodeOnly is the front of the pipeline alone: read and decode
// every frame, drop the messages. It bounds what calls and import can reach.
func BenchmarkDecodeOnly(b *testing.B) {
	file := benchCapture(b)
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		job := &decodeJob{files: []string{file}, handler: decode.HandlerFuncs{OnMessage: func(*decode.Message) { n++ }}}
		if _, err := job.run(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n), "msgs/op")
	}
}

// BenchmarkCallsJSONL is `sipscope calls --format jsonl FILE`: "stream"
// is the default path (no database, callStream), "store" is `--sort start`,
// which goes through the scratch store.
func BenchmarkCallsJSONL(b *testing.B) {
	file := benchCapture(b)
	for _, sort := range []string{"", "start"} {
		name := "stream"
		if sort != "" {
			name = "store"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				io := &streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: io.Discard}
				opts := &callsOptions{format: "jsonl", source: sourceOptions{files: []string{file}, quiet: true}}
				opts.filter.sort = sort
				if err := runCalls(context.Background(), opts, io); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkImport is `sipscope import FILE --db X -q` into a new database.
func BenchmarkImport(b *testing.B) {
	file := benchCapture(b)
	b.ReportAllocs()
	dir := b.TempDir()
	for b.Loop() {
		db := filepath.Join(dir, "x.db")
		io := &streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: io.Discard}
		if err := runImport(context.Background(), &importOptions{files: []string{file}, db: db, quiet: true}, io); err != nil {
			b.Fatal(err)
		}
		// Each run writes a new database, as scripts/bench-calls.sh does;
		// old ones left behind would load the page cache of later runs.
		b.StopTimer()
		for _, suf := range []string{"", "-wal", "-shm"} {
			os.Remove(db + suf)
		}
		b.StartTimer()
	}
}

// BenchmarkCallsDB is `calls --db` reading back and printing every dialog
// of the benchmark capture, imported once first: the part of `calls FILE`
// that runs after decoding, and all of a query on a stored capture.
func BenchmarkCallsDB(b *testing.B) {
	file := benchCapture(b)
	db := filepath.Join(b.TempDir(), "x.db")
	quiet := &streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: io.Discard}
	if err := runImport(context.Background(), &importOptions{files: []string{file}, db: db, quiet: true}, quiet); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		opts := &callsOptions{format: "jsonl", source: sourceOptions{db: db, quiet: true}}
		opts.filter.sort = "start"
		if err := runCalls(context.Background(), opts, quiet); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMessagesJSONL is `sipscope messages --format jsonl FILE`.
func BenchmarkMessagesJSONL(b *testing.B) {
	file := benchCapture(b)
	b.ReportAllocs()
	for b.Loop() {
		io := &streams{In: bytes.NewReader(nil), Out: io.Discard, ErrOut: io.Discard}
		if err := runMessages(context.Background(), &messagesOptions{files: []string{file}, format: "jsonl"}, io); err != nil {
			b.Fatal(err)
		}
	}
}
