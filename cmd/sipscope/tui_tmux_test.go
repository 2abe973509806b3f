package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tmuxSession drives a program in a detached tmux session on a socket of
// its own, as a user at an 80x24 terminal would.
type tmuxSession struct {
	t      *testing.T
	socket string
	name   string
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.tmux("capture-pane", "-p", "-t", s.name) }

// send types keys (tmux key names: Enter, Down, Escape, or literal text).
func (s *tmuxSession) send(keys ...string) {
	s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...)
}

// waitFor waits until the screen shows every one of wants.
func (s *tmuxSession) waitFor(wants ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		scr := s.screen()
		ok := true
		for _, w := range wants {
			if !strings.Contains(scr, w) {
				ok = false
			}
		}
		if ok {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q; it shows:\n%s", wants, scr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTUIInTmux builds sipscope and uses its terminal UI in tmux on the
// project's SIPp captures: the list shows every dialog with its state,
// Enter shows the ladder with the final response, the message view, search
// and the filter line work, and q quits with status 0, leaving a shell
// prompt behind (the terminal was restored).
func TestTUIInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed: skipping the terminal UI script test")
	}
	if testing.Short() {
		t.Skip("builds the binary: skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sipscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sipp, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "sipp"))
	files := []string{filepath.Join(sipp, "busy.pcap"), filepath.Join(sipp, "retransmissions.pcap"), filepath.Join(sipp, "cancelled.pcap")}
	s := &tmuxSession{t: t, socket: fmt.Sprintf("tui-test-%d", os.Getpid()), name: "tui"}
	// `sipscope FILE...` on a terminal opens the UI (as sngrep does).
	cmd := fmt.Sprintf("%s %s; echo EXIT=$?; sleep 60", bin, strings.Join(files, " "))
	s.tmux("new-session", "-d", "-s", s.name, "-x", "80", "-y", "24", "env", "TERM=xterm-256color", "sh", "-c", cmd)
	t.Cleanup(func() { exec.Command("tmux", "-L", s.socket, "kill-server").Run() })

	scr := s.waitFor("3 dialogs", "busy", "completed", "cancelled", "q quit")
	if !strings.Contains(scr, "486 Busy Here") || !strings.Contains(scr, "487 Request Ter") {
		t.Errorf("list lacks final statuses:\n%s", scr)
	}
	// The rows come in start order: busy, cancelled, retransmissions.
	s.send("Down", "Down", "Enter")
	// (the findings above the ladder, no-media included, leave 100 Trying as the last arrow on 24 lines)
	s.waitFor("Call flow 1-9523@127.0.0.1", "completed 200 OK", "INVITE", ">>>", "100 Trying")
	s.send("End")
	s.waitFor("message 10/10", "BYE", "SIP/2.0 200 OK", "CSeq: 2 BYE")
	s.send("Home", "Enter")
	s.waitFor("Message (1-9523@127.0.0.1)", "INVITE sip:", "Call-ID: 1-9523@127.0.0.1", "CSeq: 1 INVITE")
	s.send("q")
	s.waitFor("Call flow")
	s.send("q")
	s.waitFor("3 dialogs")

	s.send("/", "8570")
	scr = s.waitFor("1 dialog ", "search: 8570")
	if strings.Contains(scr, "completed") {
		t.Errorf("search 8570 still lists the completed call:\n%s", scr)
	}
	s.send("Enter", "F5")
	s.waitFor("3 dialogs")
	// Typed key by key, the search narrows the list: "1-" is in every
	// Call-ID, "1-8" in two, "1-88" in one.
	s.send("/", "1-")
	s.waitFor("3 dialogs", "search: 1-")
	s.send("8")
	scr = s.waitFor("2 dialogs", "search: 1-8", "busy", "cancelled")
	if strings.Contains(scr, "completed") {
		t.Errorf("search 1-8 still lists the completed call:\n%s", scr)
	}
	s.send("8")
	scr = s.waitFor("1 dialog ", "search: 1-88", "cancelled")
	if strings.Contains(scr, "486 Busy") {
		t.Errorf("search 1-88 still lists the busy call:\n%s", scr)
	}
	// A reason phrase is in no summary field: the fields find nothing,
	// Tab searches every message (on Enter) and finds the busy call.
	s.send("C-u", "Busy Here")
	s.waitFor("0 dialogs", "search: Busy Here")
	s.send("Tab")
	s.waitFor("search every message, on Enter")
	s.send("Enter")
	scr = s.waitFor("1 dialog ", "search messages: Busy Here", "486 Busy Here")
	if strings.Contains(scr, "cancelled") {
		t.Errorf("message search Busy Here lists the cancelled call:\n%s", scr)
	}
	s.send("F5")
	s.waitFor("3 dialogs")
	s.send("f", "status>=400 state=cancelled", "Enter")
	scr = s.waitFor("1 dialog ", "cancelled", "487")
	if strings.Contains(scr, "486 Busy") {
		t.Errorf("filter status>=400 state=cancelled still lists the busy call:\n%s", scr)
	}
	s.send("f", "C-u", "state=happy", "Enter")
	s.waitFor(`unknown state "happy"`)

	// Extended flow: Space marks the busy and cancelled calls, x draws
	// both in one ladder; s saves it as HTML.
	s.send("F5")
	s.waitFor("3 dialogs")
	s.send("Space", "Space")
	s.waitFor("2 marked", "*1", "*2")
	s.send("x")
	s.waitFor("Call flow 2 dialogs", "[1]", "[2]", "486 Busy Here", "487 Request")
	html := filepath.Join(dir, "flow.html")
	s.send("s")
	s.waitFor("save current (2)", "1-8570_127.0.0.1.html")
	s.send("C-u", html, "Enter")
	s.waitFor("saved 2 dialogs to", "(html)")
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<html", "1-8570@127.0.0.1", "1-8806@127.0.0.1", "486 Busy Here", "487 Request Terminated"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("%s lacks %q", html, want)
		}
	}
	// From the list, the marked dialogs as a pcap: read back, it holds
	// the two calls and nothing else.
	s.send("q")
	s.waitFor("2 marked")
	pcap := filepath.Join(dir, "marked.pcap")
	s.send("s")
	s.waitFor("save selected (2)")
	s.send("C-u", pcap, "Enter")
	s.waitFor("saved 2 dialogs to", "(pcap)")
	out, err := exec.Command(bin, "calls", pcap).CombinedOutput()
	if err != nil {
		t.Fatalf("sipscope calls %s: %v\n%s", pcap, err, out)
	}
	if got := string(out); !strings.Contains(got, "1-8570@127.0.0.1") || !strings.Contains(got, "1-8806@127.0.0.1") || strings.Contains(got, "1-9523@127.0.0.1") {
		t.Errorf("the saved pcap holds, read back:\n%s\nwant the busy and cancelled calls only", got)
	}
	// Stats and settings answer; F5 drops the marks.
	s.send("S")
	s.waitFor("Dialogs by state", "Requests by method", "INVITE")
	s.send("q", "F8")
	s.waitFor("Call list columns", "Flow time column")
	s.send("q", "F5")
	scr = s.waitFor("3 dialogs")
	if strings.Contains(scr, "marked") {
		t.Errorf("F5 left the marks:\n%s", scr)
	}
	s.send("h")
	s.waitFor("sipscope terminal UI: keys")
	s.send("q")
	s.waitFor("Enter flow")
	s.send("q")
	scr = s.waitFor("EXIT=0")
	if strings.Contains(scr, "Call flow") || strings.Contains(scr, "dialogs") {
		t.Errorf("the UI is still on screen after q (terminal not restored):\n%s", scr)
	}

	// SIGTERM: the terminal is restored before "interrupted" is printed,
	// and the exit status is 130.
	term := fmt.Sprintf("%s tui %s & echo $! > %s/pid; wait $!; echo EXIT=$?; sleep 60", bin, files[0], dir)
	s.name = "term"
	s.tmux("new-session", "-d", "-s", s.name, "-x", "80", "-y", "24", "env", "TERM=xterm-256color", "sh", "-c", term)
	s.waitFor("1 dialog ", "busy")
	pid, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("kill", "-TERM", strings.TrimSpace(string(pid))).CombinedOutput(); err != nil {
		t.Fatalf("kill: %v %s", err, out)
	}
	scr = s.waitFor("EXIT=130", "sipscope: interrupted")
	if strings.Contains(scr, "1 dialog ") {
		t.Errorf("the UI is still on screen after SIGTERM:\n%s", scr)
	}
}

// TestBareFilePiped: `sipscope FILE` with standard output not a terminal
// prints what `sipscope calls FILE` prints.
func TestBareFilePiped(t *testing.T) {
	file := filepath.Join("..", "..", "testdata", "sipp", "busy.pcap")
	var bare, calls strings.Builder
	if code := run([]string{file}, &streams{In: strings.NewReader(""), Out: &bare, ErrOut: &bare}); code != exitOK {
		t.Fatalf("sipscope FILE: exit %d\n%s", code, bare.String())
	}
	if code := run([]string{"calls", file}, &streams{In: strings.NewReader(""), Out: &calls, ErrOut: &calls}); code != exitOK {
		t.Fatalf("sipscope calls FILE: exit %d\n%s", code, calls.String())
	}
	if bare.String() != calls.String() || !strings.Contains(bare.String(), "486 Busy Here") {
		t.Errorf("sipscope FILE piped printed\n%s\nwant the calls table\n%s", bare.String(), calls.String())
	}
}

// TestTUILiveInTmux: `sipscope tui --hep-listen` shows the capture's own
// progress on the status line (packets, SIP messages, dialogs, calls in
// progress, drops), not bytes of a file, while sngrep replays a capture
// to it as HEP; the call shows up in the list once it ends.
func TestTUILiveInTmux(t *testing.T) {
	for _, tool := range []string{"tmux", "sngrep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: skipping the live terminal UI test", tool)
		}
	}
	if testing.Short() {
		t.Skip("builds the binary: skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "sipscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	port := freePort(t)
	s := &tmuxSession{t: t, socket: fmt.Sprintf("tui-live-test-%d", os.Getpid()), name: "tui"}
	cmd := fmt.Sprintf("%s tui --hep-listen udp:127.0.0.1:%d; echo EXIT=$?; sleep 60", bin, port)
	s.tmux("new-session", "-d", "-s", s.name, "-x", "100", "-y", "24", "env", "TERM=xterm-256color", "sh", "-c", cmd)
	t.Cleanup(func() { exec.Command("tmux", "-L", s.socket, "kill-server").Run() })
	scr := s.waitFor("capturing  0 packets  0 SIP  0 dialogs  0 in progress  0 drops")
	if strings.Contains(scr, " B/s") || strings.Contains(scr, "0 B") {
		t.Errorf("live status line counts bytes:\n%s", scr)
	}
	waitBoundUDP(t, port)
	file := filepath.Join("..", "..", "testdata", "sipp", "busy.pcap")
	sngrep := exec.Command("sngrep", "-N", "-q", "-I", file, "-H", fmt.Sprintf("udp:127.0.0.1:%d", port))
	sngrep.Env = append(os.Environ(), "TERM=dumb")
	if out, err := sngrep.CombinedOutput(); err != nil {
		t.Fatalf("sngrep: %v: %s", err, out)
	}
	// busy.pcap: INVITE, 100, 486, ACK. The call is stored at its final
	// response; the ACK's part is still in progress (stored when it times
	// out), so the in-progress count is not checked.
	scr = s.waitFor("capturing  4 packets  4 SIP  1 dialogs  ", " in progress  0 drops", "1 dialog ", "486 Busy Here")
	if strings.Contains(scr, " B/s") {
		t.Errorf("live status line counts bytes:\n%s", scr)
	}
	s.send("q")
	s.waitFor("EXIT=0")
}
