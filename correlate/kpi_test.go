package correlate

import (
	"encoding/json"
	"math"
	"os"
	"testing"
	"time"

	"github.com/sipscope/sipscope/decode"
)

// kpiCaptures are the SIPp captures of testdata/sipp that TestKPICaptures
// combines (see testdata/sipp/README.md for how each was made).
var kpiCaptures = []string{
	"udp-basic", "busy", "cancelled", "notfound", "noanswer", "register-401",
	"retransmissions", "proxy-2hop", "answered-no-ack",
}

func kpisOf(t *testing.T, by GroupBy, names ...string) *KPIs {
	t.Helper()
	k := NewKPIs(by)
	for _, n := range names {
		col := correlatePath(t, "../testdata/sipp/"+n+".pcap", Options{})
		for i, d := range col.dialogs {
			k.Add(d, col.msgs[i])
		}
	}
	return k
}

// TestKPICaptures checks every KPI against numbers worked out by hand from
// `sipscope messages` of each capture (times below are seconds after
// 09:25 or 09:26 on 2026-11-25, microsecond stamps).
//
// Session requests (11), with SRD / PDD, SDT (200 OK to BYE) and SDD (BYE
// to its 200), measured on the responses sent to the caller:
//
//	udp-basic #1   INVITE 40.075834, 180 40.077028: SRD 1.194 ms; 200 40.078171, BYE 40.383922: SDT 305.751 ms; 200 40.384010: SDD 0.088 ms
//	udp-basic #2   INVITE 40.490470, 180 40.492089: SRD 1.619; 200 40.493795, BYE 40.803761: SDT 309.966; SDD 0.059
//	udp-basic #3   INVITE 40.875066, 180 40.876244: SRD 1.178; 200 40.877460, BYE 41.185359: SDT 307.899; 200 41.189345: SDD 3.986
//	retransmissions INVITE 26.187159 (resent twice), 100 27.991266 (not counted), 180 27.992438: SRD 1805.279;
//	               200 27.993588, BYE 28.299268 (resent): SDT 305.680; 200 29.525848: SDD 1226.580 (from the first BYE)
//	proxy-2hop #1  INVITE 35.463019 (caller 5060), 180 to 5060 35.465917: SRD 2.898 (the proxy's own 180 from 5080
//	               is not the caller's); 200 to 5060 35.467336, BYE 35.771422: SDT 304.086; 200 to 5060 35.771861: SDD 0.439
//	proxy-2hop #2  INVITE 35.863095, 180 35.864768: SRD 1.673; 200 35.865929, BYE 36.171143: SDT 305.214; 200 36.171634: SDD 0.491
//	answered-no-ack INVITE 03.915066, 180 03.925794: SRD 10.728; 200 03.929840, no BYE (not completed)
//	busy           INVITE 49.703873, 486 49.705085: failed SRD 1.212, PDD 1.212 (no 18x: to the final)
//	notfound       INVITE 52.374700, 404 52.476465: failed SRD 101.765, PDD 101.765
//	cancelled      INVITE 55.082920, 180 55.084225: PDD 1.305; CANCEL, 487 (no SRD: the caller gave up)
//	noanswer       INVITE sent 4 times, no response at all
//
// Answered 7 of 11: ASR = SER = 7/11 = 63.636 % (no 3xx). SEER: 7 + the
// 486 = 8/11 = 72.727 %. ISA: the unanswered INVITE (timer B, a 408) =
// 1/11 = 9.091 %. SCR: answered and BYE answered 2xx: 3 + 1 + 2 = 6/11 =
// 54.545 %. NER: 7 answered + 486 + the cancel after ringing = 9/11 =
// 81.818 %.
//
// SRD success sorted: 1.178 1.194 1.619 1.673 2.898 10.728 1805.279:
// nearest rank p50 = 4th = 1.673, p90 = 7th (ceil 6.3) = 1805.279, p99 =
// 7th; mean 1824.569/7 = 260.653. SRD failure: 1.212 101.765: p50 = 1st,
// p90 = 2nd. PDD (10 values): 1.178 1.194 1.212 1.305 1.619 1.673 2.898
// 10.728 101.765 1805.279: p50 = 5th = 1.619, p90 = 9th = 101.765, p99 =
// 1805.279. SDD sorted 0.059 0.088 0.439 0.491 3.986 1226.580: p50 = 3rd
// = 0.439, p90 = 6th (ceil 5.4). SDT (s): 0.304086 0.305214 0.305680
// 0.305751 0.307899 0.309966: p50 = 3rd = 0.305680; ACD = 1.838596/6 =
// 0.306433 (0.3064327 rounded to µs).
//
// register-401: REGISTER 20.747824, 401, REGISTER (CSeq 2), 200 20.749376:
// one attempt, RRD 1.552 ms, IRA 0 %.
func TestKPICaptures(t *testing.T) {
	k := kpisOf(t, ByNone, kpiCaptures...)
	r := k.Total.Record(ByNone)
	ints := []struct {
		name      string
		got, want int64
	}{
		{"dialogs", r.Dialogs, 12}, {"calls", r.Calls, 11}, {"answered", r.Answered, 7},
		{"failed", r.Failed, 2}, {"busy", r.Busy, 1}, {"cancelled", r.Cancelled, 1},
		{"redirected", r.Redirected, 0}, {"no_response", r.NoResponse, 1}, {"completed", r.Completed, 6},
		{"sdd_timeouts", r.SDDTimeout, 0}, {"registrations", r.Registrations, 1}, {"registered", r.Registered, 1},
		{"ineffective_registrations", r.IneffectiveReg, 0},
	}
	for _, c := range ints {
		if c.got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, c.got, c.want)
		}
	}
	floats := []struct {
		name string
		got  *float64
		want float64
	}{
		{"asr", r.ASR, 63.636}, {"ser", r.SER, 63.636}, {"seer", r.SEER, 72.727}, {"isa", r.ISA, 9.091},
		{"scr", r.SCR, 54.545}, {"ner", r.NER, 81.818}, {"ira", r.IRA, 0},
		{"srd_success_p50_ms", r.SRDSuccessP50, 1.673}, {"srd_success_p90_ms", r.SRDSuccessP90, 1805.279},
		{"srd_success_p99_ms", r.SRDSuccessP99, 1805.279}, {"srd_success_avg_ms", r.SRDSuccessAvg, 260.653},
		{"srd_failure_p50_ms", r.SRDFailureP50, 1.212}, {"srd_failure_p90_ms", r.SRDFailureP90, 101.765},
		{"pdd_p50_ms", r.PDDp50, 1.619}, {"pdd_p90_ms", r.PDDp90, 101.765}, {"pdd_p99_ms", r.PDDp99, 1805.279},
		{"sdd_p50_ms", r.SDDp50, 0.439}, {"sdd_p90_ms", r.SDDp90, 1226.58},
		{"sdt_p50_s", r.SDTp50, 0.30568}, {"acd_s", r.ACD, 0.306433},
		{"rrd_p50_ms", r.RRDp50, 1.552}, {"rrd_p99_ms", r.RRDp99, 1.552},
	}
	for _, c := range floats {
		if c.got == nil {
			t.Errorf("%s: got null, want %v", c.name, c.want)
			continue
		}
		if math.Abs(*c.got-c.want) > 1e-9 {
			t.Errorf("%s: got %v, want %v", c.name, *c.got, c.want)
		}
	}
	want := []FailureCount{{404, 1}, {486, 1}, {487, 1}}
	if got := r.Failures; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("failure_codes: got %v, want %v", got, want)
	}
	// The timeline has every session request, in its minute.
	var calls, answered int64
	bs, w := k.Timeline.Buckets(100)
	for _, b := range bs {
		calls += b.Calls
		answered += b.Answered
	}
	if calls != 11 || answered != 7 || len(bs) != 2 || w != time.Minute {
		t.Errorf("timeline: got %d calls, %d answered in %d buckets of %v, want 11, 7 in 2 of 1m", calls, answered, len(bs), w)
	}
}

// TestKPIGroups groups the same captures by minute: 09:25 holds
// udp-basic (3 answered), busy, notfound, cancelled and noanswer (7
// calls); 09:26 holds the registration, retransmissions, proxy-2hop (2)
// and answered-no-ack (4 calls, all answered).
func TestKPIGroups(t *testing.T) {
	k := kpisOf(t, ByMinute, kpiCaptures...)
	gs := k.Groups()
	if len(gs) != 2 {
		t.Fatalf("got %d groups, want 2", len(gs))
	}
	type row struct {
		key                            string
		calls, answered, registrations int64
		asr                            float64
	}
	want := []row{{"2026-11-25T09:25Z", 7, 3, 0, 42.857}, {"2026-11-25T09:26Z", 4, 4, 1, 100}}
	for i, g := range gs {
		r := g.Record(ByMinute)
		got := row{r.Group, r.Calls, r.Answered, r.Registrations, *r.ASR}
		if got != want[i] {
			t.Errorf("group %d: got %+v, want %+v", i, got, want[i])
		}
		if r.By != "minute" {
			t.Errorf("by: got %q, want minute", r.By)
		}
	}
	if k.Total.Calls != 11 {
		t.Errorf("total calls: got %d, want 11", k.Total.Calls)
	}
}

// TestKPICrafted checks the codes the SIPp captures lack: a 302 (left out
// of SER's and SEER's denominators, RFC 6076 §4.6-4.7), a 503 (ISA, §4.8),
// a 480 (SEER), a 401 challenge then 200 (one attempt: §5.3), a BYE with
// no answer (SDD timeout, not completed), and registrations ending in 403
// (IRA), 401 never answered (a challenge is no failure, §4.2) and no
// response (timer F, IRA).
func TestKPICrafted(t *testing.T) {
	k := NewKPIs(ByNone)
	add := func(lines ...string) {
		d, msgs := one(t, lines...)
		k.Add(d, msgs)
	}
	add("0 a>b INVITE/1 r1 cid=redir", "10 b>a 302 INVITE/1 r1 t=x cid=redir", "11 a>b ACK/1 r1 t=x cid=redir")
	add("0 a>b INVITE/1 s1 cid=unavail", "40 b>a 503 INVITE/1 s1 t=x cid=unavail", "41 a>b ACK/1 s1 t=x cid=unavail")
	add("0 a>b INVITE/1 u1 cid=away", "25 b>a 480 INVITE/1 u1 t=x cid=away", "26 a>b ACK/1 u1 t=x cid=away")
	// Challenged: INVITE at 0, 407 at 5, INVITE with credentials at 6,
	// 180 at 16, 200 at 20; BYE at 1020, never answered. SRD runs from
	// the first INVITE (§5.3): 16 ms; SDT 1000 ms.
	add("0 a>b INVITE/1 c1 cid=auth", "5 b>a 407 INVITE/1 c1 t=x cid=auth", "5 a>b ACK/1 c1 t=x cid=auth",
		"6 a>b INVITE/2 c2 cid=auth", "16 b>a 180 INVITE/2 c2 t=y cid=auth", "20 b>a 200 INVITE/2 c2 t=y cid=auth",
		"21 a>b ACK/2 c3 t=y cid=auth", "1020 a>b BYE/3 c4 t=y cid=auth")
	add("0 a>b REGISTER/1 g1 cid=reg403", "3 b>a 403 REGISTER/1 g1 t=x cid=reg403")
	add("0 a>b REGISTER/1 h1 cid=reg401", "2 b>a 401 REGISTER/1 h1 t=x cid=reg401")
	add("0 a>b REGISTER/1 i1 cid=regnone")
	// A refresh: two attempts in one Call-ID, each 4 ms and 2 ms.
	add("0 a>b REGISTER/1 j1 cid=regok", "4 b>a 200 REGISTER/1 j1 t=x cid=regok",
		"5000 a>b REGISTER/2 j2 cid=regok", "5002 b>a 200 REGISTER/2 j2 t=x cid=regok")
	// Challenged, credentials challenged again (stale nonce), then a new
	// REGISTER without credentials, challenged and answered 200: two
	// attempts, the first ending in a 401 (no failure), the second 10 ms
	// from its first REGISTER (100) to the 200 (110).
	add("0 a>b REGISTER/1 k1 cid=regstale", "1 b>a 401 REGISTER/1 k1 t=x cid=regstale",
		"2 a>b REGISTER/2 k2 cid=regstale h:Authorization=Digest", "3 b>a 401 REGISTER/2 k2 t=x cid=regstale",
		"100 a>b REGISTER/3 k3 cid=regstale", "101 b>a 401 REGISTER/3 k3 t=x cid=regstale",
		"102 a>b REGISTER/4 k4 cid=regstale h:Authorization=Digest", "110 b>a 200 REGISTER/4 k4 t=x cid=regstale")

	r := k.Total.Record(ByNone)
	check := func(name string, got *float64, want float64) {
		t.Helper()
		if got == nil || math.Abs(*got-want) > 1e-9 {
			t.Errorf("%s: got %s, want %v", name, fmtp(got), want)
		}
	}
	// 4 session requests, 1 redirected: SER = 1/3, SEER = (200 + 480)/3,
	// ISA = 503/4, ASR = 1/4, SCR = 0 (the BYE got no answer).
	if r.Calls != 4 || r.Redirected != 1 || r.Answered != 1 || r.Completed != 0 || r.SDDTimeout != 1 {
		t.Errorf("calls %d redirected %d answered %d completed %d sdd_timeouts %d, want 4 1 1 0 1",
			r.Calls, r.Redirected, r.Answered, r.Completed, r.SDDTimeout)
	}
	check("ser", r.SER, 33.333)
	check("seer", r.SEER, 66.667)
	check("isa", r.ISA, 25)
	check("asr", r.ASR, 25)
	check("scr", r.SCR, 0)
	check("srd_success_p50_ms", r.SRDSuccessP50, 16)
	check("sdt_p50_s", r.SDTp50, 1)
	// SRD failure: 503 at 40 and 480 at 25; the 302 is no failure (4xx-6xx only).
	check("srd_failure_p50_ms", r.SRDFailureP50, 25)
	check("srd_failure_p90_ms", r.SRDFailureP90, 40)
	if r.SDDp50 != nil {
		t.Errorf("sdd_p50_ms: got %v, want null (the only BYE timed out)", *r.SDDp50)
	}
	// Registrations: 403, 401, none, 200, 200, 401, 200: 7 attempts, 2
	// ineffective (403, no response): IRA 2/7 = 28.571 %; RRD 4, 2 and 10
	// ms: p50 (2nd of 3) 4, p99 10, mean 16/3.
	if r.Registrations != 7 || r.Registered != 3 || r.IneffectiveReg != 2 {
		t.Errorf("registrations %d registered %d ineffective %d, want 7 3 2", r.Registrations, r.Registered, r.IneffectiveReg)
	}
	check("ira", r.IRA, 28.571)
	check("rrd_p50_ms", r.RRDp50, 4)
	check("rrd_p99_ms", r.RRDp99, 10)
	check("rrd_avg_ms", r.RRDavg, 5.333)
}

func fmtp(p *float64) string {
	if p == nil {
		return "null"
	}
	b, _ := json.Marshal(*p)
	return string(b)
}

// TestSamplesBounded: past MaxSamples the values kept stay at MaxSamples,
// the mean still covers every value, and percentiles of a uniform stream
// stay close to the truth.
func TestSamplesBounded(t *testing.T) {
	var s Samples
	const n = 5 * MaxSamples
	for i := range n {
		s.Add(float64(i % 1000))
	}
	if len(s.vals) != MaxSamples || s.Count() != n {
		t.Fatalf("kept %d of %d values, want %d of %d", len(s.vals), s.Count(), MaxSamples, n)
	}
	if m, _ := s.Mean(); m != 499.5 {
		t.Errorf("mean: got %v, want 499.5", m)
	}
	if p, _ := s.Percentile(50); math.Abs(p-500) > 25 {
		t.Errorf("p50: got %v, want about 500", p)
	}
	var e Samples
	if _, ok := e.Percentile(50); ok {
		t.Error("empty Samples gave a percentile")
	}
}

// TestTimelineCoarsens: a timeline over more minutes than maxBuckets
// doubles its bucket width and keeps every count.
func TestTimelineCoarsens(t *testing.T) {
	var tl Timeline
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 3 * maxBuckets
	for i := range n {
		tl.add(start.Add(time.Duration(i)*time.Minute), i%2 == 0)
	}
	if len(tl.buckets) > maxBuckets {
		t.Errorf("got %d buckets, want at most %d", len(tl.buckets), maxBuckets)
	}
	if tl.Width != 2*time.Minute && tl.Width != 4*time.Minute {
		t.Errorf("width: got %v, want 2m or 4m", tl.Width)
	}
	count := func(bs []TimeBucket) (calls, answered int64) {
		for _, b := range bs {
			calls += b.Calls
			answered += b.Answered
		}
		return
	}
	bs, _ := tl.Buckets(maxBuckets)
	if calls, answered := count(bs); calls != n || answered != n/2 {
		t.Errorf("got %d calls %d answered, want %d %d", calls, answered, n, n/2)
	}
	// Two calls 17 years apart (a corpus of old and new captures): the
	// buckets between them are bounded too.
	var far Timeline
	far.add(start, true)
	far.add(start.AddDate(17, 0, 0), false)
	bs, w := far.Buckets(120)
	if calls, answered := count(bs); len(bs) > 120 || calls != 2 || answered != 1 {
		t.Errorf("17 years: got %d buckets of %v, %d calls %d answered, want at most 120, 2, 1", len(bs), w, calls, answered)
	}
}

// TestKPICorpusRegistrations reads the registrations of sngrep's aaa.pcap
// (shared corpus), a phone that answers each 401 about 17 s later and
// often gets "401 nonce has changed" for its credentials, then starts
// again without them. By hand, from `sipscope messages`:
//
//	578222729-...: REGISTER 68 401, 69 (credentials) 403: ineffective;
//	  70 401, 71 401; 72 401, 73 401; 74 at 09:38:58.910409 401, 75 200 at
//	  09:39:16.406918: RRD 17496.509 ms; 76 401, 77 401; 78 401, 79 401
//	29858147-...: 1 at 09:53:16.804243 401, 2 200 at 09:53:34.349707: RRD
//	  17545.464 ms; 3 401, 4 401; 5 at 09:56:41.263229 401, 6 200 at
//	  09:56:58.881832: RRD 17618.603 ms
//
// 9 attempts, 1 ineffective: IRA 11.111 %; RRD p50 17545.464, p90 (3rd of
// 3) 17618.603, mean 52660.576/3 = 17553.525.
func TestKPICorpusRegistrations(t *testing.T) {
	path := corpusDir + "/sngrep/aaa.pcap"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("corpus capture %s absent (%v): the shared corpus lives beside the module", path, err)
	}
	k := NewKPIs(ByNone)
	col := correlatePath(t, path, Options{})
	for i, d := range col.dialogs {
		k.Add(d, col.msgs[i])
	}
	r := k.Total.Record(ByNone)
	if r.Registrations != 9 || r.Registered != 3 || r.IneffectiveReg != 1 {
		t.Errorf("registrations %d registered %d ineffective %d, want 9 3 1", r.Registrations, r.Registered, r.IneffectiveReg)
	}
	for _, c := range []struct {
		name string
		got  *float64
		want float64
	}{{"ira", r.IRA, 11.111}, {"rrd_p50_ms", r.RRDp50, 17545.464}, {"rrd_p90_ms", r.RRDp90, 17618.603}, {"rrd_avg_ms", r.RRDavg, 17553.525}} {
		if c.got == nil || math.Abs(*c.got-c.want) > 1e-9 {
			t.Errorf("%s: got %s, want %v", c.name, fmtp(c.got), c.want)
		}
	}
}

// TestKPIStreaming: measured as a streaming correlator hands dialogs on
// (Options.Early: a proxy's far hop ends a call before the caller's side
// gets its 200 to the BYE, which then comes as a continuation; a late
// ACK too), the KPIs equal those of whole dialogs.
func TestKPIStreaming(t *testing.T) {
	whole := kpisOf(t, ByMinute, kpiCaptures...)
	stream := NewKPIs(ByMinute)
	stream.Streaming = true
	parts := 0
	for _, n := range kpiCaptures {
		col := correlatePath(t, "../testdata/sipp/"+n+".pcap", Options{Early: true})
		for i, d := range col.dialogs {
			if d.Part > 0 {
				parts++
			}
			stream.Add(d, col.msgs[i])
		}
	}
	stream.Flush()
	if parts == 0 {
		t.Fatal("no continuation records: the test does not test streaming")
	}
	enc := func(k *KPIs) string {
		var b []byte
		for _, g := range append(k.Groups(), &k.Total) {
			j, _ := json.Marshal(g.Record(k.By))
			b = append(append(b, j...), '\n')
		}
		return string(b)
	}
	if got, want := enc(stream), enc(whole); got != want {
		t.Errorf("streaming (%d continuations) differs:\n%s\nwhole:\n%s", parts, got, want)
	}
}

// TestCredentials: a request carries credentials when an Authorization or
// Proxy-Authorization header is among its headers, parsed or (a copy
// without them, decode.Message.CloneWire) raw; a look-alike header or the
// body does not count.
func TestCredentials(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{"REGISTER sip:x SIP/2.0\r\nCSeq: 2 REGISTER\r\nAuthorization: Digest username=\"a\"\r\n\r\n", true},
		{"REGISTER sip:x SIP/2.0\nproxy-authorization : Digest\n\n", true},
		{"REGISTER sip:x SIP/2.0\r\nX-Authorization: no\r\n\r\n", false},
		{"MESSAGE sip:x SIP/2.0\r\nContent-Length: 20\r\n\r\nAuthorization: body\r\n", false},
	}
	for _, tc := range tests {
		m := &decode.Message{Raw: []byte(tc.raw)}
		if got := credentials(m); got != tc.want {
			t.Errorf("credentials(%q): got %v, want %v", tc.raw, got, tc.want)
		}
	}
	m := &decode.Message{Headers: []decode.Header{{Name: "Proxy-Authorization", Value: "Digest"}}}
	if !credentials(m) {
		t.Error("parsed Proxy-Authorization: got false, want true")
	}
}

// TestKPIStreamingRenumbered: a B2BUA that numbers its side's requests
// anew (BYE 7 from the caller, BYE 3 on to the callee) and answers the
// caller only after the callee answered it: the dialog ends at the
// callee's 200, so the caller's 200 comes as a continuation. Streaming, it
// waits for it and counts the call completed, as measuring it whole does
// (heplify's erspan capture has such an SBC).
func TestKPIStreamingRenumbered(t *testing.T) {
	lines := []string{
		"0 a>b INVITE/1 v1", "5 b>a 100 INVITE/1 v1", "10 b>a 200 INVITE/1 v1 t=x", "11 a>b ACK/1 v2 t=x",
		"1000 a>b BYE/7 v3 t=x", "1001 b>c BYE/3 v4 t=x", "1004 c>b 200 BYE/3 v4 t=x", "1005 b>a 200 BYE/7 v3 t=x",
	}
	col := run(t, Options{Early: true}, lines...)
	if len(col.dialogs) != 2 || col.dialogs[1].Part != 1 {
		t.Fatalf("got %d records, want the dialog and its continuation", len(col.dialogs))
	}
	stream := NewKPIs(ByNone)
	stream.Streaming = true
	for i, d := range col.dialogs {
		stream.Add(d, col.msgs[i])
	}
	stream.Flush()
	whole := NewKPIs(ByNone)
	d, msgs := one(t, lines...)
	whole.Add(d, msgs)
	s, w := stream.Total.Record(ByNone), whole.Total.Record(ByNone)
	if s.Completed != 1 || w.Completed != 1 {
		t.Errorf("completed: streaming %d, whole %d; want 1 and 1", s.Completed, w.Completed)
	}
}
