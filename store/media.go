package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/sipscope/sipscope/correlate"
)

// AddStreams stores the statistics of media streams (not their packets),
// in one transaction with one prepared statement. Streams are summarised
// once a capture has been read, so they are added after its dialogs.
func (s *Store) AddStreams(ctx context.Context, streams []correlate.Stream) error {
	if len(streams) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: add streams: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, qStreamIns)
	if err != nil {
		return fmt.Errorf("store: add streams: %w", err)
	}
	defer st.Close()
	for i := range streams {
		args, err := streamArgs(&streams[i])
		if err != nil {
			return fmt.Errorf("store: add streams: %w", err)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("store: add streams: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: add streams: %w", err)
	}
	return nil
}

const qStreamIns = `INSERT INTO streams (call_id, src, dst, ssrc, payload_type, codec, clock_rate,
	payload_types, direction, link, packets, bytes, expected, lost, out_of_order, duplicates, cycles,
	jitter_mean_ms, jitter_max_ms, max_delta_ms, start_ns, end_ns, rtcp, r_factor, mos, dtmf, dtmf_events)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`

// streamArgs is the values of a streams row.
func streamArgs(m *correlate.Stream) ([]any, error) {
	pts, _ := json.Marshal(orEmpty(m.PayloadTypes))
	evs, _ := json.Marshal(orEmpty(m.DTMFEvents))
	var rtcp any
	if m.RTCP != nil {
		b, err := json.Marshal(m.RTCP)
		if err != nil {
			return nil, err
		}
		rtcp = string(b)
	}
	return []any{m.CallID, m.Src.String(), m.Dst.String(), int64(m.SSRC), m.PayloadType, m.Codec, m.ClockRate,
		string(pts), string(m.Direction), string(m.Link), m.Packets, m.Bytes, m.Expected, m.Lost, m.OutOfOrder, m.Duplicates, m.Cycles,
		m.JitterMeanMs, m.JitterMaxMs, m.MaxDeltaMs, ns(m.Start), ns(m.End), rtcp, nullFloat(m.RFactor), nullFloat(m.MOS),
		m.DTMF, string(evs)}, nil
}

// Stream stores the statistics of one media stream in the Writer's batch,
// so that a stream handed on while the capture is read (its call ended)
// is committed with the dialogs around it: readers of a live capture's
// database see it. s is not retained.
func (w *Writer) Stream(s *correlate.Stream) error {
	if w.closed {
		return errors.New("store: Stream called on a closed Writer")
	}
	if w.tx == nil {
		if err := w.begin(); err != nil {
			return err
		}
	}
	args, err := streamArgs(s)
	if err == nil {
		_, err = w.tx.execKept(qStreamIns, args...)
	}
	if err != nil {
		w.rollback()
		return fmt.Errorf("store: stream: %w", err)
	}
	w.pending++
	if w.pending >= w.opts.BatchMessages || time.Since(w.began) >= w.opts.BatchInterval {
		return w.commit()
	}
	return nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func nullFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// Streams returns the stored RTP streams of the given calls (every
// stream, those without a call included, when callIDs is nil), in order
// of start.
func (s *Store) Streams(ctx context.Context, callIDs []string) ([]correlate.Stream, error) {
	return s.streams(ctx, callIDs, false)
}

// InfoDTMF returns the SIP INFO digits of the given calls (of every call
// when callIDs is nil): one correlate.LinkInfo row per call and direction
// that sent some (correlate.InfoDigits), in order of the first digit.
// They are stored in the streams table (link 'info', no packets) and left
// out of Streams.
func (s *Store) InfoDTMF(ctx context.Context, callIDs []string) ([]correlate.Stream, error) {
	return s.streams(ctx, callIDs, true)
}

func (s *Store) streams(ctx context.Context, callIDs []string, info bool) ([]correlate.Stream, error) {
	q := `SELECT call_id, src, dst, ssrc, payload_type, codec, clock_rate, payload_types, direction, link,
		packets, bytes, expected, lost, out_of_order, duplicates, cycles, jitter_mean_ms, jitter_max_ms, max_delta_ms,
		start_ns, end_ns, rtcp, r_factor, mos, dtmf, dtmf_events FROM streams WHERE link `
	if info {
		q += `= ?`
	} else {
		q += `<> ?`
	}
	args := []any{string(correlate.LinkInfo)}
	if callIDs != nil {
		q += ` AND call_id IN ` + callIDList
		args = append(args, callIDsArg(callIDs))
	}
	q += ` ORDER BY start_ns, id`
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil, nil // a database from before schema version 7 opened read-only
		}
		return nil, fmt.Errorf("store: streams: %w", err)
	}
	defer rows.Close()
	var out []correlate.Stream
	for rows.Next() {
		var (
			m                        correlate.Stream
			src, dst, pts, dir, link string
			evs                      string
			ssrc, start, end         int64
			rtcp                     sql.NullString
			rf, mos                  sql.NullFloat64
		)
		if err := rows.Scan(&m.CallID, &src, &dst, &ssrc, &m.PayloadType, &m.Codec, &m.ClockRate, &pts, &dir, &link,
			&m.Packets, &m.Bytes, &m.Expected, &m.Lost, &m.OutOfOrder, &m.Duplicates, &m.Cycles,
			&m.JitterMeanMs, &m.JitterMaxMs, &m.MaxDeltaMs, &start, &end, &rtcp, &rf, &mos, &m.DTMF, &evs); err != nil {
			return nil, fmt.Errorf("store: streams: %w", err)
		}
		m.Src, _ = netip.ParseAddrPort(src)
		m.Dst, _ = netip.ParseAddrPort(dst)
		m.SSRC = uint32(ssrc)
		m.Direction, m.Link = correlate.Direction(dir), correlate.Link(link)
		m.Start, m.End = fromNS(start), fromNS(end)
		if err := json.Unmarshal([]byte(pts), &m.PayloadTypes); err != nil {
			return nil, fmt.Errorf("store: streams: payload_types: %w", err)
		}
		if len(m.PayloadTypes) == 0 {
			m.PayloadTypes = nil
		}
		if evs != "" && evs != "[]" {
			if err := json.Unmarshal([]byte(evs), &m.DTMFEvents); err != nil {
				return nil, fmt.Errorf("store: streams: dtmf_events: %w", err)
			}
		}
		if rtcp.Valid {
			m.RTCP = &correlate.RTCPStats{}
			if err := json.Unmarshal([]byte(rtcp.String), m.RTCP); err != nil {
				return nil, fmt.Errorf("store: streams: rtcp: %w", err)
			}
		}
		if rf.Valid {
			m.RFactor = &rf.Float64
		}
		if mos.Valid {
			m.MOS = &mos.Float64
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
