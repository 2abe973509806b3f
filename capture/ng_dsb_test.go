package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
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
