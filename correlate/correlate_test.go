package correlate

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestStates(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string
		kind   Kind
		state  State
		status int
		retx   int
	}{
		{"completed", []string{
			"0 a>b INVITE/1 i1",
			"10 b>a 100 INVITE/1 i1",
			"200 b>a 180 INVITE/1 i1 tb",
			"3000 b>a 200 INVITE/1 i1 tb",
			"3010 a>b ACK/1 k1 tb",
			"63010 a>b BYE/2 y1 tb",
			"63020 b>a 200 BYE/2 y1 tb",
		}, KindCall, StateCompleted, 200, 0},
		{"completed by callee BYE", []string{
			"0 a>b INVITE/1 i1",
			"3000 b>a 200 INVITE/1 i1 tb",
			"3010 a>b ACK/1 k1 tb",
			"9000 b>a BYE/1 y2 f=tb t=ft via=10.0.0.2:5060",
			"9010 a>b 200 BYE/1 y2 f=tb t=ft via=10.0.0.2:5060",
		}, KindCall, StateCompleted, 200, 0},
		{"in-call, ACK never seen", []string{
			"0 a>b INVITE/1 i1",
			"3000 b>a 200 INVITE/1 i1 tb",
			"3500 b>a 200 INVITE/1 i1 tb",
			"4500 b>a 200 INVITE/1 i1 tb",
		}, KindCall, StateInCall, 200, 2},
		{"ringing", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 180 INVITE/1 i1 tb",
		}, KindCall, StateRinging, 0, 0},
		{"setup", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 100 INVITE/1 i1",
		}, KindCall, StateSetup, 0, 0},
		{"no-response", []string{
			"0 a>b INVITE/1 i1",
			"500 a>b INVITE/1 i1",
			"1500 a>b INVITE/1 i1",
			"3500 a>b INVITE/1 i1",
		}, KindCall, StateNoResponse, 0, 3},
		{"cancelled 487", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 180 INVITE/1 i1 tb",
			"5000 a>b CANCEL/1 i1",
			"5010 b>a 200 CANCEL/1 i1 tb",
			"5020 b>a 487 INVITE/1 i1 tb",
			"5030 a>b ACK/1 i1 tb",
		}, KindCall, StateCancelled, 487, 0},
		{"cancelled, other final", []string{
			"0 a>b INVITE/1 i1",
			"5000 a>b CANCEL/1 i1",
			"5500 a>b CANCEL/1 i1",
			"6000 b>a 408 INVITE/1 i1 tb",
			"6010 a>b ACK/1 i1 tb",
		}, KindCall, StateCancelled, 408, 1},
		{"cancelled, no final", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 180 INVITE/1 i1 tb",
			"5000 a>b CANCEL/1 i1",
		}, KindCall, StateCancelled, 0, 0},
		{"CANCEL crosses 200", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 180 INVITE/1 i1 tb",
			"5000 a>b CANCEL/1 i1",
			"5001 b>a 200 INVITE/1 i1 tb",
			"5010 b>a 200 CANCEL/1 i1 tb",
			"5020 a>b ACK/1 k1 tb",
			"5030 a>b BYE/2 y1 tb",
			"5040 b>a 200 BYE/2 y1 tb",
		}, KindCall, StateCompleted, 200, 0},
		{"BYE without answer", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 180 INVITE/1 i1 tb",
			"5000 a>b BYE/2 y1 tb",
			"5010 b>a 200 BYE/2 y1 tb",
		}, KindCall, StateCancelled, 0, 0},
		{"busy 486", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 486 INVITE/1 i1 tb",
			"110 a>b ACK/1 i1 tb",
		}, KindCall, StateBusy, 486, 0},
		{"busy 600", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 600 INVITE/1 i1 tb",
		}, KindCall, StateBusy, 600, 0},
		{"rejected 404", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 404 INVITE/1 i1 tb",
			"110 a>b ACK/1 i1 tb",
		}, KindCall, StateRejected, 404, 0},
		{"rejected 407 not retried", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 407 INVITE/1 i1 tb",
			"110 a>b ACK/1 i1 tb",
		}, KindCall, StateRejected, 407, 0},
		{"redirected", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 302 INVITE/1 i1 tb",
			"110 a>b ACK/1 i1 tb",
		}, KindCall, StateRedirected, 302, 0},
		{"407 challenge then answered", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 407 INVITE/1 i1 tp",
			"110 a>b ACK/1 i1 tp",
			"40000 a>b INVITE/2 i2",
			"40100 b>a 180 INVITE/2 i2 tb",
			"41000 b>a 200 INVITE/2 i2 tb",
			"41010 a>b ACK/2 k2 tb",
		}, KindCall, StateInCall, 200, 0},
		{"407 challenge then 403", []string{
			"0 a>b INVITE/1 i1",
			"500 a>b INVITE/1 i1",
			"1500 a>b INVITE/1 i1",
			"1600 b>a 407 INVITE/1 i1 tp",
			"1610 a>b ACK/1 i1 tp",
			"34000 a>b INVITE/2 i2",
			"34200 b>a 403 INVITE/2 i2 tp2",
			"34210 a>b ACK/2 i2 tp2",
		}, KindCall, StateRejected, 403, 2},
		{"re-INVITE rejected does not change final", []string{
			"0 a>b INVITE/1 i1",
			"100 b>a 200 INVITE/1 i1 tb",
			"110 a>b ACK/1 k1 tb",
			"5000 a>b INVITE/2 i2 tb",
			"5100 b>a 488 INVITE/2 i2 tb",
			"5110 a>b ACK/2 i2 tb",
		}, KindCall, StateInCall, 200, 0},
		{"register 401 then 200", []string{
			"0 a>p REGISTER/1 r1",
			"100 p>a 401 REGISTER/1 r1 tp",
			"200 a>p REGISTER/2 r2",
			"300 p>a 200 REGISTER/2 r2 tp",
		}, KindRegistration, StateCompleted, 200, 0},
		{"register 403", []string{
			"0 a>p REGISTER/1 r1",
			"100 p>a 403 REGISTER/1 r1 tp",
		}, KindRegistration, StateRejected, 403, 0},
		{"register no response", []string{
			"0 a>p REGISTER/1 r1",
			"500 a>p REGISTER/1 r1",
		}, KindRegistration, StateNoResponse, 0, 1},
		{"register pending", []string{
			"0 a>p REGISTER/1 r1",
			"50 p>a 100 REGISTER/1 r1",
		}, KindRegistration, StatePending, 0, 0},
		{"subscribe", []string{
			"0 a>b SUBSCRIBE/1 s1",
			"100 b>a 200 SUBSCRIBE/1 s1 tb",
			"200 b>a NOTIFY/1 n1 f=tb t=ft",
			"300 a>b 200 NOTIFY/1 n1 f=tb t=ft",
		}, KindSubscription, StateCompleted, 200, 0},
		// Issue 15, RFC 6665 §4.1.3: the NOTIFY's Subscription-State
		// says where the subscription is.
		{"subscribe active", []string{
			"0 a>b SUBSCRIBE/1 s1",
			"100 b>a 200 SUBSCRIBE/1 s1 tb",
			"200 b>a NOTIFY/1 n1 f=tb t=ft h:Subscription-State=active;expires=3600",
			"300 a>b 200 NOTIFY/1 n1 f=tb t=ft",
		}, KindSubscription, StateActive, 200, 0},
		{"subscribe pending", []string{
			"0 a>b SUBSCRIBE/1 s1",
			"100 b>a 202 SUBSCRIBE/1 s1 tb",
			"200 b>a NOTIFY/1 n1 f=tb t=ft h:Subscription-State=pending",
			"300 a>b 200 NOTIFY/1 n1 f=tb t=ft",
		}, KindSubscription, StatePending, 202, 0},
		{"subscribe terminated", []string{
			"0 a>b SUBSCRIBE/1 s1",
			"100 b>a 200 SUBSCRIBE/1 s1 tb",
			"200 b>a NOTIFY/1 n1 f=tb t=ft h:Subscription-State=active;expires=60",
			"300 a>b 200 NOTIFY/1 n1 f=tb t=ft",
			"60000 b>a NOTIFY/2 n2 f=tb t=ft h:Subscription-State=terminated;reason=timeout",
			"60100 a>b 200 NOTIFY/2 n2 f=tb t=ft",
		}, KindSubscription, StateTerminated, 200, 0},
		{"subscribe rejected", []string{
			"0 a>b SUBSCRIBE/1 s1",
			"100 b>a 489 SUBSCRIBE/1 s1 tb",
		}, KindSubscription, StateRejected, 489, 0},
		{"notify alone", []string{
			"0 b>a NOTIFY/5 n1 tb",
			"100 a>b 200 NOTIFY/5 n1 tb",
		}, KindSubscription, StateCompleted, 200, 0},
		{"message", []string{
			"0 a>b MESSAGE/1 m1",
			"100 b>a 202 MESSAGE/1 m1 tb",
		}, KindMessage, StateCompleted, 202, 0},
		{"options rejected", []string{
			"0 a>b OPTIONS/1 o1",
			"100 b>a 404 OPTIONS/1 o1 tb",
		}, KindOptions, StateRejected, 404, 0},
		{"publish", []string{
			"0 a>b PUBLISH/1 p1",
			"100 b>a 200 PUBLISH/1 p1 tb",
		}, KindPublish, StateCompleted, 200, 0},
		{"refer", []string{
			"0 a>b REFER/1 f1",
			"100 b>a 202 REFER/1 f1 tb",
		}, KindRefer, StateCompleted, 202, 0},
		{"other", []string{
			"0 a>b FOO/1 x1",
		}, KindOther, StateNoResponse, 0, 0},
		{"response first", []string{
			"0 b>a 200 INVITE/1 i1 tb",
			"10 a>b ACK/1 k1 tb",
		}, KindCall, StateInCall, 200, 0},
		// The capture began with the caller's CANCEL (corpus
		// PcapPlusPlus/sip_reqs.pcap): no INVITE or answer was seen, so
		// it is not in a call.
		{"capture starts at the CANCEL", []string{
			"0 a>b CANCEL/2 c1",
			"60000 b>a ACK/11 k1",
		}, KindCall, StateCancelled, 0, 0},
		{"capture starts at the CANCEL, answered after all", []string{
			"0 a>b CANCEL/2 c1",
			"10 b>a 200 INVITE/2 i1 tb",
		}, KindCall, StateInCall, 200, 0},
		{"capture starts at the CANCEL, then 200 CANCEL and 487", []string{
			"0 a>b CANCEL/1 c1",
			"1 b>a 200 CANCEL/1 c1 tb",
			"2 b>a 487 INVITE/1 i1 tb",
			"20 a>b ACK/1 i1 tb",
		}, KindCall, StateCancelled, 487, 0},
		// Issue 15: a Call-ID seen only from its BYE is no "completed
		// 200 OK": the 200 answers the BYE, and the capture joined
		// mid-dialog.
		{"capture starts mid-call", []string{
			"0 a>b BYE/7 y1 tb",
			"10 b>a 200 BYE/7 y1 tb",
		}, KindCall, StateMidDialog, 0, 0},
		{"capture starts with UPDATE, BYE much later", []string{
			"0 a>b UPDATE/7 u1 tb",
			"10 b>a 200 UPDATE/7 u1 tb",
			"100000 a>b BYE/8 y1 tb",
			"100010 b>a 200 BYE/8 y1 tb",
		}, KindCall, StateMidDialog, 0, 0},
		{"capture starts at the 200 of a BYE", []string{
			"0 b>a 200 BYE/7 y1 tb",
		}, KindCall, StateMidDialog, 0, 0},
		{"capture starts mid-call, then a new call on the Call-ID", []string{
			"0 a>b BYE/7 y1 tb",
			"10 b>a 200 BYE/7 y1 tb",
			"1000 a>b INVITE/8 i1",
			"1100 b>a 486 INVITE/8 i1 tc",
			"1110 a>b ACK/8 i1 tc",
		}, KindCall, StateBusy, 486, 0},
		{"RFC 2543 peer, no branch", []string{
			"0 a>b INVITE/1 !",
			"500 a>b INVITE/1 !",
			"600 b>a 180 INVITE/1 ! tb",
			"900 b>a 486 INVITE/1 ! tb",
			"910 a>b ACK/1 ! tb",
		}, KindCall, StateBusy, 486, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, msgs := one(t, tt.lines...)
			if d.Kind != tt.kind || d.State != tt.state || d.FinalStatus != tt.status || d.Retransmissions != tt.retx {
				t.Errorf("got %s/%s/%d retx %d, want %s/%s/%d retx %d", d.Kind, d.State, d.FinalStatus, d.Retransmissions, tt.kind, tt.state, tt.status, tt.retx)
			}
			if d.Messages != len(tt.lines) || len(msgs) != len(tt.lines) {
				t.Errorf("got %d messages (%d handed), want %d", d.Messages, len(msgs), len(tt.lines))
			}
			n := 0
			for i, m := range msgs {
				if m.Retransmission {
					n++
				}
				if m.Txn < 0 || m.Txn >= len(d.Transactions) {
					t.Errorf("message %d: Txn %d out of range", i, m.Txn)
				}
				if i > 0 && m.Seq <= msgs[i-1].Seq {
					t.Errorf("message %d: Seq %d not increasing", i, m.Seq)
				}
			}
			if n != tt.retx {
				t.Errorf("got %d messages marked, want %d", n, tt.retx)
			}
		})
	}
}

func TestTimings(t *testing.T) {
	d, _ := one(t,
		"0 a>b INVITE/1 i1 ua=caller/1",
		"10 b>a 100 INVITE/1 i1 ua=callee/1",
		"1500 b>a 180 INVITE/1 i1 tb",
		"4000 b>a 200 INVITE/1 i1 tb",
		"4010 a>b ACK/1 k1 tb",
		"64000 b>a BYE/1 y2 f=tb t=ft reason=Q.850;cause=16;text=\"Normal\"",
		"64010 a>b 200 BYE/1 y2 f=tb t=ft",
	)
	if d.SetupTime != 1500*time.Millisecond || d.AnswerTime != 4*time.Second || d.Duration != 60*time.Second {
		t.Errorf("got setup %v answer %v duration %v, want 1.5s 4s 60s", d.SetupTime, d.AnswerTime, d.Duration)
	}
	if d.Q850Cause != 16 || d.UserAgent != "caller/1" {
		t.Errorf("got q850 %d ua %q, want 16 caller/1", d.Q850Cause, d.UserAgent)
	}
	if !d.Start.Equal(t0) || !d.End.Equal(t0.Add(64010*time.Millisecond)) {
		t.Errorf("got start %v end %v", d.Start, d.End)
	}
	if d.Src != eps["a"] || d.Dst != eps["b"] || d.FromUser() != "alice" || d.ToUser() != "bob" || d.To.Tag != "" {
		t.Errorf("got %v -> %v from %q to %q (tag %q)", d.Src, d.Dst, d.FromUser(), d.ToUser(), d.To.Tag)
	}
	if len(d.Transactions) != 3 {
		t.Errorf("got %d transactions, want 3 (INVITE, ACK for 2xx, BYE)", len(d.Transactions))
	}

	d, _ = one(t, "0 a>b INVITE/1 i1", "10 b>a 486 INVITE/1 i1 tb")
	if d.SetupTime != -1 || d.AnswerTime != -1 || d.Duration != -1 || Ms(d.Duration) != -1 {
		t.Errorf("got %v %v %v, want -1 for all", d.SetupTime, d.AnswerTime, d.Duration)
	}
}

func TestQ850(t *testing.T) {
	for in, want := range map[string]int{
		`Q.850;cause=16;text="Normal call clearing"`: 16,
		`SIP;cause=200;text="x", Q.850 ; cause = 31`: 31,
		`SIP;cause=487`:         0,
		`q.850;CAUSE=1x`:        1,
		`Q.850;text="no cause"`: 0,
		``:                      0,
		`Q.850;cause=99999999999999999999999999999999`: 9999,
	} {
		if got := q850Cause(in); got != want {
			t.Errorf("q850Cause(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestTransactions(t *testing.T) {
	d, msgs := one(t,
		"0 a>b INVITE/1 i1",
		"5000 a>b CANCEL/1 i1",
		"5010 b>a 200 CANCEL/1 i1 tb",
		"5020 b>a 487 INVITE/1 i1 tb",
		"5030 a>b ACK/1 i1 tb",
	)
	if len(d.Transactions) != 2 {
		t.Fatalf("got %d transactions, want 2", len(d.Transactions))
	}
	inv, cn := d.Transactions[0], d.Transactions[1]
	if inv.Method != "INVITE" || inv.Messages != 3 || inv.FinalStatus != 487 || !inv.Opening {
		t.Errorf("INVITE transaction: %+v", inv)
	}
	if cn.Method != "CANCEL" || cn.Cancels != 0 || cn.FinalStatus != 200 || cn.Messages != 2 {
		t.Errorf("CANCEL transaction: %+v", cn)
	}
	if got := []int{msgs[0].Txn, msgs[1].Txn, msgs[2].Txn, msgs[3].Txn, msgs[4].Txn}; !slices.Equal(got, []int{0, 1, 1, 0, 0}) {
		t.Errorf("got Txn %v, want [0 1 1 0 0]", got)
	}
}

// TestProxyHops: the same INVITE seen on both hops of a stateful proxy
// (new top Via branch, other addresses) is not a retransmission; the
// caller's real retransmission is.
func TestProxyHops(t *testing.T) {
	d, msgs := one(t,
		"0 a>p INVITE/1 i1",
		"5 p>b INVITE/1 pi1 via=10.0.0.3:5060",
		"500 a>p INVITE/1 i1",
		"505 p>b INVITE/1 pi1 via=10.0.0.3:5060",
		"600 b>p 180 INVITE/1 pi1 tb via=10.0.0.3:5060",
		"605 p>a 180 INVITE/1 i1 tb",
		"900 b>p 200 INVITE/1 pi1 tb via=10.0.0.3:5060",
		"905 p>a 200 INVITE/1 i1 tb",
	)
	if d.Retransmissions != 2 || !msgs[2].Retransmission || !msgs[3].Retransmission || msgs[1].Retransmission {
		t.Errorf("got %d retransmissions, want the two at 500 and 505 ms", d.Retransmissions)
	}
	if len(d.Transactions) != 2 {
		t.Errorf("got %d transactions, want 2 (one per hop)", len(d.Transactions))
	}
	if d.State != StateInCall || d.SetupTime != 600*time.Millisecond {
		t.Errorf("got %s setup %v, want in-call 600ms", d.State, d.SetupTime)
	}
	// The same packet seen twice with the same addresses is a
	// retransmission; with the top Via of another hop it is not.
	d, _ = one(t,
		"0 a>b OPTIONS/1 o1",
		"1 a>b OPTIONS/1 o1 via=10.0.0.9:5060",
		"2 b>a 200 OPTIONS/1 o1 tb",
		"3 b>a 200 OPTIONS/1 o1 tb via=10.0.0.9:5060",
		"4 b>a 200 OPTIONS/1 o1 tb",
	)
	if d.Retransmissions != 1 || len(d.Transactions) != 2 {
		t.Errorf("got %d retransmissions %d transactions, want 1 and 2", d.Retransmissions, len(d.Transactions))
	}
}

func TestForking(t *testing.T) {
	d, msgs := one(t,
		"0 a>p INVITE/1 i1",
		"100 p>a 180 INVITE/1 i1 t1",
		"110 p>a 180 INVITE/1 i1 t2",
		"120 p>a 183 INVITE/1 i1 t3",
		"130 p>a 180 INVITE/1 i1 t1",
		"2000 p>a 200 INVITE/1 i1 t2",
		"2010 a>p ACK/1 k1 t2",
		"9000 p>a BYE/1 y1 f=t2 t=ft",
		"9010 a>p 200 BYE/1 y1 f=t2 t=ft",
	)
	if !slices.Equal(d.Legs, []string{"t1", "t2", "t3"}) {
		t.Errorf("got legs %v, want [t1 t2 t3]", d.Legs)
	}
	if !slices.Equal(d.Transactions[0].Legs, d.Legs) {
		t.Errorf("got transaction legs %v", d.Transactions[0].Legs)
	}
	if d.Retransmissions != 1 || !msgs[4].Retransmission {
		t.Errorf("got %d retransmissions, want the second 180 from t1 only", d.Retransmissions)
	}
	wantLeg := []string{"", "t1", "t2", "t3", "t1", "t2", "t2", "t2", "t2"}
	for i, m := range msgs {
		if m.Leg != wantLeg[i] {
			t.Errorf("message %d: got leg %q, want %q", i, m.Leg, wantLeg[i])
		}
	}
	if d.State != StateCompleted || d.SetupTime != 100*time.Millisecond {
		t.Errorf("got %s setup %v", d.State, d.SetupTime)
	}
}

func TestInterleaved(t *testing.T) {
	var lines []string
	// 50 calls whose messages interleave, each one of four outcomes.
	for i := range 50 {
		at := i * 10
		id := fmt.Sprintf("cid=call-%d", i)
		lines = append(lines, fmt.Sprintf("%d a>b INVITE/1 i%d %s", at, i, id))
	}
	for i := range 50 {
		at := 1000 + i*10
		id := fmt.Sprintf("cid=call-%d", i)
		switch i % 4 {
		case 0:
			lines = append(lines, fmt.Sprintf("%d b>a 200 INVITE/1 i%d tb %s", at, i, id))
		case 1:
			lines = append(lines, fmt.Sprintf("%d b>a 486 INVITE/1 i%d tb %s", at, i, id))
		case 2:
			lines = append(lines, fmt.Sprintf("%d b>a 180 INVITE/1 i%d tb %s", at, i, id))
		}
	}
	for i := range 50 {
		if i%4 == 0 {
			at := 2000 + i*10
			id := fmt.Sprintf("cid=call-%d", i)
			lines = append(lines,
				fmt.Sprintf("%d a>b ACK/1 k%d tb %s", at, i, id),
				fmt.Sprintf("%d a>b BYE/2 y%d tb %s", at+5000, i, id),
				fmt.Sprintf("%d b>a 200 BYE/2 y%d tb %s", at+5001, i, id))
		}
	}
	slices.SortStableFunc(lines, func(a, b string) int {
		var x, y int
		fmt.Sscan(a, &x)
		fmt.Sscan(b, &y)
		return x - y
	})
	col := run(t, Options{}, lines...)
	if len(col.dialogs) != 50 {
		t.Fatalf("got %d dialogs, want 50", len(col.dialogs))
	}
	want := []State{StateCompleted, StateBusy, StateRinging, StateNoResponse}
	for i := range 50 {
		ds := col.byID(fmt.Sprintf("call-%d", i))
		if len(ds) != 1 {
			t.Fatalf("call-%d: got %d records", i, len(ds))
		}
		if ds[0].State != want[i%4] {
			t.Errorf("call-%d: got %s, want %s", i, ds[0].State, want[i%4])
		}
	}
}

func TestStreaming(t *testing.T) {
	col := &collector{}
	c := New(Options{Grace: time.Second, Idle: time.Minute}, col)
	add := func(l string) {
		t.Helper()
		if err := c.Add(msg(t, l)); err != nil {
			t.Fatal(err)
		}
	}
	add("0 a>b INVITE/1 i1 cid=x")
	add("100 b>a 486 INVITE/1 i1 tb cid=x")
	add("110 a>b ACK/1 i1 tb cid=x")
	add("1000 a>b OPTIONS/1 o1 cid=y")
	if len(col.dialogs) != 0 {
		t.Fatalf("handed on before the grace time")
	}
	add("1200 a>b OPTIONS/1 o1 cid=y")
	if len(col.dialogs) != 1 || col.dialogs[0].CallID != "x" || len(col.msgs[0]) != 3 {
		t.Fatalf("got %d dialogs, want x with 3 messages after its grace time", len(col.dialogs))
	}
	// A message for x after it was handed on: a continuation.
	add("5000 a>b INVITE/2 i2 cid=x")
	add("70000 a>b OPTIONS/9 o9 cid=z") // y idles out (1 minute)
	if got := c.Stats().Open; got != 1 {
		t.Errorf("got %d open, want 1 (z; x's continuation idled out)", got)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	xs := col.byID("x")
	if len(xs) != 2 || xs[1].Part != 1 || xs[1].Messages != 4 {
		t.Fatalf("got %d records for x, want 2", len(xs))
	}
	if xs[1].Transactions[0].Index != 1 || xs[1].Kind != KindCall || !xs[1].Start.Equal(t0) || xs[1].State != StateNoResponse {
		t.Errorf("continuation: %+v", xs[1])
	}
	if ys := col.byID("y"); len(ys) != 1 || ys[0].State != StateNoResponse || ys[0].Retransmissions != 1 {
		t.Errorf("y: %+v", ys)
	}
}

// TestLongCall: a call answered and quiet for longer than Idle is handed
// on in-call; its BYE makes a continuation that knows the call was
// answered.
func TestLongCall(t *testing.T) {
	col := run(t, Options{},
		"0 a>b INVITE/1 i1",
		"1000 b>a 200 INVITE/1 i1 tb",
		"1010 a>b ACK/1 k1 tb",
		"601010 a>b BYE/2 y1 tb",
		"601020 b>a 200 BYE/2 y1 tb",
	)
	if len(col.dialogs) != 2 {
		t.Fatalf("got %d records, want 2", len(col.dialogs))
	}
	a, b := col.dialogs[0], col.dialogs[1]
	if a.State != StateInCall || b.State != StateCompleted || b.Part != 1 || b.Duration != 600010*time.Millisecond || b.Messages != 5 || b.FinalStatus != 200 {
		t.Errorf("got %s then %s part %d duration %v messages %d", a.State, b.State, b.Part, b.Duration, b.Messages)
	}
	if b.Transactions[0].Index != 2 || col.msgs[1][0].Txn != 2 {
		t.Errorf("got continuation transaction index %d, want 2", b.Transactions[0].Index)
	}
}

func TestLinks(t *testing.T) {
	col := run(t, Options{},
		"0 a>p INVITE/1 i1 cid=A",
		"5 p>b INVITE/1 i2 cid=B h:X-Call-ID=A",
		"10 b>c INVITE/1 i3 cid=C h:X-CID=B",
		"20 p>b INVITE/1 i4 cid=A_b2b-1",
		"30 a>p INVITE/1 i5 cid=D h:x-call-id=E,F",
	)
	want := map[string][]string{
		"A":       {"B", "C", "A_b2b-1"},
		"B":       {"A", "C", "A_b2b-1"},
		"C":       {"B", "A", "A_b2b-1"},
		"A_b2b-1": {"A", "B", "C"},
		"D":       {"E", "F"},
	}
	for id, w := range want {
		ds := col.byID(id)
		if len(ds) != 1 {
			t.Fatalf("%s: got %d records", id, len(ds))
		}
		got := slices.Clone(ds[0].Linked)
		slices.Sort(got)
		w = slices.Clone(w)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s: got linked %v, want %v", id, ds[0].Linked, w)
		}
	}
}

func TestEvents(t *testing.T) {
	col := &collector{}
	c := New(Options{}, col)
	for _, l := range []string{"0 a>b INVITE/1 i1", "500 a>b INVITE/1 i1"} {
		if err := c.Add(msg(t, l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Event(nil); err != nil {
		t.Fatal(err)
	}
	e := eventFor("c1", 1, "INVITE")
	if err := c.Event(&e); err != nil {
		t.Fatal(err)
	}
	e2 := eventFor("unknown", 1, "INVITE")
	if err := c.Event(&e2); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	d := col.dialogs[0]
	if d.Events != 1 || len(col.msgs[0][1].Events) != 1 || len(col.msgs[0][0].Events) != 0 {
		t.Errorf("got %d events on the dialog; want 1, on the latest INVITE", d.Events)
	}
	if s := c.Stats(); s.Events != 1 || s.EventsUnmatched != 1 {
		t.Errorf("got stats %+v", s)
	}
}

func TestNoCallID(t *testing.T) {
	col := run(t, Options{}, "0 a>b REGISTER/1 r1 cid=", "1 a>b REGISTER/1 r1 cid=")
	if len(col.dialogs) != 2 {
		t.Fatalf("got %d dialogs, want one per message without Call-ID", len(col.dialogs))
	}
}
