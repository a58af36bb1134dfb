package report

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/postform/postform/state"
)

// t0 is the fixtures' reference time.
var t0 = time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC)

// fixtureRecords returns a fixed set of records, in address order, that
// covers every status, every delivery, both kinds of bounce, refusals,
// values that need escaping in every format and cells a spreadsheet
// would run as formulas.
func fixtureRecords() []state.Record {
	sent := func(batch, key, to string, d state.Delivery, latency time.Duration) state.Record {
		r := state.Record{
			Address:        fmt.Sprintf("batch.%s[%q]", batch, key),
			Batch:          batch,
			Key:            key,
			Recipients:     to,
			Stream:         "broadcast",
			Tag:            "2026-11-digest",
			Digest:         "sha256:" + fakeHex(key, 16),
			PFID:           "pf-" + fakeHex("pf"+key, 8),
			Status:         state.StatusSent,
			MessageID:      fakeUUID(key),
			SubmittedAt:    t0.Add(1500 * time.Millisecond),
			FirstAttemptAt: t0.Add(time.Second),
			LastAttemptAt:  t0.Add(time.Second),
			Attempts:       1,
			Delivery:       d,
			CheckedAt:      t0.Add(time.Hour),
		}
		if latency >= 0 {
			r.DeliveredAt = r.SubmittedAt.Add(latency)
			r.LastEventAt = r.DeliveredAt
		}
		return r
	}
	notSent := func(batch, key, to string, st state.Status, code int, msg string) state.Record {
		return state.Record{
			Address:        fmt.Sprintf("batch.%s[%q]", batch, key),
			Batch:          batch,
			Key:            key,
			Recipients:     to,
			Stream:         "outbound",
			Digest:         "sha256:" + fakeHex(key, 16),
			PFID:           "pf-" + fakeHex("pf"+key, 8),
			Status:         st,
			FirstAttemptAt: t0.Add(2 * time.Second),
			LastAttemptAt:  t0.Add(3 * time.Second),
			Attempts:       2,
			ErrorCode:      code,
			ErrorMessage:   msg,
		}
	}
	const none = -1 // no delivery time

	recs := []state.Record{
		sent("digest", "ann@example.com", "Ann Example <ann@example.com>", state.DeliveryDelivered, 400*time.Millisecond),
		sent("digest", "bob@example.com", "bob@example.com", state.DeliveryOpened, 3*time.Second),
		sent("digest", "carol@example.com", "carol@example.com", state.DeliveryClicked, 12*time.Second),
		sent("digest", "dave@example.com", "dave@example.com", state.DeliveryPending, none),
		sent("digest", "erin@example.com", "erin@example.com", state.DeliveryNone, none),
		sent("digest", "frank@example.com", "frank@example.com", state.DeliveryTransient, none),
		sent("digest", "grace@example.com", "grace@example.com", state.DeliveryBounced, none),
		sent("digest", "heidi@example.com", "heidi@example.com", state.DeliveryBounced, none),
		notSent("digest", "ivan@example.com", "ivan@example.com", state.StatusFailed, 406,
			"You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: ivan@example.com."),
		notSent("digest", "judy@@example.com", "judy@@example.com", state.StatusFailed, 300,
			"Invalid 'To' address: '<script>alert(1)</script> judy@@example.com'."),
		notSent("receipts", "1001", "mallory@example.com", state.StatusUncertain, 0,
			"request timed out after it was written"),
		notSent("receipts", "1002", "niaj@example.com", state.StatusSending, 0, ""),
		notSent("receipts", "1003", "oscar@example.com", state.StatusUnsent, 429, "Rate limit exceeded"),
		sent("receipts", "=1+2", "=SUM(1+2) <trent@example.com>", state.DeliveryDelivered, 45*time.Second),
		sent("receipts", "@attack", "-victor@example.com", state.DeliveryDelivered, 40*time.Second),
		sent("welcome", "olivia@example.com", `"Olivia O'Neil & Co" <olivia@example.com>, Walter <walter@example.com>`, state.DeliveryDelivered, 2*time.Minute),
		sent("welcome", "peggy@example.com", "peggy@example.com", state.DeliveryDelivered, 10*time.Minute),
		sent("welcome", "quentin@example.com", "quentin@example.com", state.DeliveryDelivered, 45*time.Minute),
		sent("welcome", "rupert@example.com", "rupert@example.com", state.Delivery("spam_complaint"), none),
		notSent("welcome", "sybil@example.com", "sybil@example.com", state.Status("exploded"), 0, ""),
		sent("welcome", "zoë@example.com", "Zoë <zoë@example.com>", state.DeliveryDelivered, 700*time.Millisecond),
	}
	for i := range recs {
		r := &recs[i]
		switch r.Key {
		case "grace@example.com":
			r.BounceType, r.BounceID, r.Inactive = "HardBounce", 4242, true
			r.LastEventAt = t0.Add(5 * time.Minute)
		case "heidi@example.com":
			r.BounceType, r.BounceID = "SoftBounce", 4343
			r.LastEventAt = t0.Add(6 * time.Minute)
		case "olivia@example.com":
			r.Tag = "<b>welcome</b> & co"
			r.SubmittedAt = r.SubmittedAt.In(time.FixedZone("EST", -5*3600))
		}
	}
	slices.SortFunc(recs, func(a, b state.Record) int { return cmp.Compare(a.Address, b.Address) })
	return recs
}

// fakeHex returns n bytes of a stable digest of s, in hex.
func fakeHex(s string, n int) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:n])
}

// fakeUUID returns a stable MessageID-shaped value for s.
func fakeUUID(s string) string {
	h := fakeHex("id"+s, 16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// fixtureEmails are every e-mail address in fixtureRecords, in the form
// they appear there.
var fixtureEmails = []string{
	"ann@example.com", "bob@example.com", "carol@example.com", "dave@example.com",
	"erin@example.com", "frank@example.com", "grace@example.com", "heidi@example.com",
	"ivan@example.com", "judy@@example.com", "mallory@example.com", "niaj@example.com",
	"oscar@example.com", "trent@example.com", "victor@example.com", "olivia@example.com",
	"walter@example.com", "peggy@example.com", "quentin@example.com", "rupert@example.com",
	"sybil@example.com", "zoë@example.com",
}

// sliceSource streams recs and counts how often it was called.
func sliceSource(recs []state.Record) Source {
	return func(ctx context.Context, fn func(state.Record) error) error {
		for _, r := range recs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

var errBoom = errors.New("boom: state read failed")

// failingSource yields n records of recs, then fails with errBoom.
func failingSource(recs []state.Record, n int) Source {
	return func(ctx context.Context, fn func(state.Record) error) error {
		for i, r := range recs {
			if i == n {
				return errBoom
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// growingSource yields recs on its first call and recs plus extra on
// every later call: state written between a writer's two passes.
func growingSource(recs []state.Record, extra state.Record) Source {
	calls := 0
	return func(ctx context.Context, fn func(state.Record) error) error {
		calls++
		all := recs
		if calls > 1 {
			all = append(slices.Clone(recs), extra)
			slices.SortFunc(all, func(a, b state.Record) int { return cmp.Compare(a.Address, b.Address) })
		}
		return sliceSource(all)(ctx, fn)
	}
}

// fixtureOptions are the options of the golden files.
func fixtureOptions() Options {
	return Options{
		Title:     "weekly-digest",
		Generated: time.Date(2026, 11, 3, 8, 30, 0, 0, time.UTC),
		Version:   "0.1.0-test",
	}
}
