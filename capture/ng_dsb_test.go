package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestNgSecretsBlock reads the key log that editcap --inject-secrets put in
// a pcapng Decryption Secrets Block: the same bytes as the key log file,
// taken once, with every frame still read.
func TestNgSecretsBlock(t *testing.T) {
	dir := filepath.Join("..", "testdata", "tls")
	keys, err := os.ReadFile(filepath.Join(dir, "tls13-aes128gcm.keys"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := Open([]string{filepath.Join(dir, "tls13-aes128gcm-dsb.pcapng")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ss, ok := src.(SecretsSource)
	if !ok {
		t.Fatal("file source is not a SecretsSource")
	}
	var got []byte
	var f Frame
	n := 0
	for {
		err := src.Next(&f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		got = append(got, ss.TLSSecrets()...)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(keys)) {
		t.Errorf("got secrets %q, want the key log %q", got, keys)
	}
	if n != 30 {
		t.Errorf("got %d frames, want 30", n)
	}
}

// TestWriteTLSSecrets writes a Decryption Secrets Block and reads it back.
func TestWriteTLSSecrets(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, "pcapng")
	if err != nil {
		t.Fatal(err)
	}
	keys := []byte("CLIENT_RANDOM 00 11\nSERVER_TRAFFIC_SECRET_0 aa bbb\n") // length not a multiple of 4
	if err := w.WriteTLSSecrets(keys, LinkEthernet); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteFrame(&Frame{Time: time.Unix(1, 0), Link: LinkEthernet, Data: make([]byte, 60), OrigLen: 60}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "s.pcapng")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Open([]string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var f Frame
	if err := src.Next(&f); err != nil {
		t.Fatal(err)
	}
	if got := src.(SecretsSource).TLSSecrets(); !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(keys)) {
		t.Errorf("got secrets %q, want %q", got, keys)
	}
	if err := src.Next(&f); !errors.Is(err, io.EOF) {
		t.Errorf("got %v after the one frame, want EOF", err)
	}
	if w2, _ := NewWriter(&buf, "pcap"); w2.WriteTLSSecrets(keys, LinkEthernet) == nil {
		t.Error("pcap writer accepted secrets")
	}
}
