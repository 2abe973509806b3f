package main

import (
	"bytes"
	"context"
	"fmt"
	goio "io"
	"os"
	"os/exec"
	"testing"
)

// TestPage checks that a ladder too wide for the terminal goes through
// $PAGER with LESS=-SRFX set for it (issue 15 item 10: scroll, do not
// wrap), and that a missing pager fails so that flow prints instead.
func TestPage(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to stand in for a pager")
	}
	var out bytes.Buffer
	io := &streams{Out: &out, ErrOut: goio.Discard}
	t.Setenv("LESS", "")
	t.Setenv("PAGER", "sh "+writeScript(t, "echo LESS=$LESS; cat"))
	if err := page(context.Background(), io, func(w goio.Writer) error {
		_, err := fmt.Fprintln(w, "a wide ladder")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "LESS=-SRFX\na wide ladder\n" {
		t.Errorf("pager got %q", got)
	}
	t.Setenv("PAGER", "/nonexistent/pager")
	out.Reset()
	if err := page(context.Background(), io, func(w goio.Writer) error { return nil }); err == nil || out.Len() != 0 {
		t.Errorf("missing pager: err %v, wrote %q; want an error and nothing written", err, out.String())
	}
}

func writeScript(t *testing.T, body string) string {
	t.Helper()
	p := t.TempDir() + "/pager.sh"
	if err := os.WriteFile(p, []byte(body+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
