package pebblestate

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postform/postform/state"
)

// Keys. Every key starts with one byte naming its kind, so that each kind
// is one contiguous, ordered range:
//
//	'm' name                      meta values (lineage, target, serial, …)
//	'r' address                   a record (value: encodeRecord)
//	'u' address                   an unsettled record (value: its status)
//	'o' address                   a record whose delivery is open (value: the delivery)
//	'i' id (8 bytes, big-endian)  an intent: records announced as sending
//	's' stream 0x00 email         a suppression (value: encodeSuppression)
//	't' address                   a tombstone of a removed record (value: the next generation, varint)
//	'v' name                      a named value (state.Store.SetValues)
//
// Addresses and emails compare as bytes, which is the order Page promises
// (Go's string order).
//
// The two indexes hold only the records someone looks for: unsettled ones
// (sending, uncertain, unsent) for apply, open deliveries (pending,
// transient) for refresh. Each is keyed by the address alone, so a write
// never needs to read the record it replaces to find its old index entry:
// it sets the entry when the new record belongs in the index and deletes it
// blindly otherwise.
const (
	kindMeta        = 'm'
	kindRecord      = 'r'
	kindUnsettled   = 'u'
	kindOpen        = 'o'
	kindIntent      = 'i'
	kindSuppression = 's'
	kindTombstone   = 't'
	kindValue       = 'v'
)

func recordKey(address string) []byte {
	return append([]byte{kindRecord}, address...)
}

// indexKey is the key of address in the index of kind (kindUnsettled or
// kindOpen).
func indexKey(kind byte, address string) []byte {
	return append([]byte{kind}, address...)
}

func intentKey(id uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{kindIntent}, id)
}

func suppressionKey(stream, email string) []byte {
	k := make([]byte, 0, 2+len(stream)+len(email))
	k = append(k, kindSuppression)
	k = append(k, stream...)
	k = append(k, 0)
	return append(k, email...)
}

func metaKey(name string) []byte {
	return append([]byte{kindMeta}, name...)
}

// prefixEnd returns the smallest key greater than every key starting with
// prefix (prefix is never all 0xff here).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// unsettled and open are the statuses and deliveries that have an index.
var (
	unsettled = map[state.Status]bool{state.StatusSending: true, state.StatusUncertain: true, state.StatusUnsent: true}
	open      = map[state.Delivery]bool{state.DeliveryPending: true, state.DeliveryTransient: true}
)

// encodeTime turns t into UTC Unix nanoseconds, with the zero time as 0.
// Instants outside what int64 nanoseconds can hold are refused instead of
// silently wrapping.
func encodeTime(t time.Time) (int64, error) {
	if t.IsZero() {
		return 0, nil
	}
	if y := t.UTC().Year(); y < 1678 || y > 2261 {
		return 0, fmt.Errorf("time %s is out of the storable range (years 1678 to 2261)", t.Format(time.RFC3339))
	}
	return t.UnixNano(), nil
}

// decodeTime is the inverse of encodeTime; non-zero times come back in UTC.
func decodeTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// checkRecord validates what encodeRecord cannot store.
func checkRecord(r *state.Record) error {
	if r.Address == "" {
		return errors.New("record with an empty address")
	}
	for _, t := range [...]time.Time{r.SubmittedAt, r.FirstAttemptAt, r.LastAttemptAt, r.DeliveredAt, r.LastEventAt, r.CheckedAt} {
		if _, err := encodeTime(t); err != nil {
			return fmt.Errorf("%s: %w", r.Address, err)
		}
	}
	return nil
}

// recordFormat is the first byte of every encoded record. A reader refuses
// a format it does not know. Format 1 is the fixed list of fields; format 2
// adds, after them, a tail of optional fields, each a uvarint tag then its
// value, written only when not zero, in increasing tag order. A field added
// to state.Record later takes the next tag; a reader refuses a tag it does
// not know (the record was written by a newer postform).
const (
	recordFormatV1 = 1
	recordFormat   = 2
)

// Tags of the optional fields of format 2.
const (
	tagGeneration = 1 // varint
	tagPFBatch    = 2 // string
)

// suppressionFormat is the first byte of an encoded suppression.
const suppressionFormat = 1

// Flags of an encoded record: which fields take a shorter form. Every short
// form is used only when it gives back exactly the original string.
const (
	flagDerivedKey   = 1 << iota // Batch and Key are read off the address
	flagRecipKey                 // Recipients equals Key
	flagRawDigest                // Digest is 64 lower-case hex digits, stored as 32 bytes
	flagRawMessageID             // MessageID is a lower-case UUID, stored as 16 bytes
)

// splitAddress reads the batch and key off an address of the form
// batch.NAME["KEY"]. ok is false for any other form.
func splitAddress(address string) (batch, key string, ok bool) {
	rest, ok := strings.CutPrefix(address, "batch.")
	if !ok {
		return "", "", false
	}
	rest, ok = strings.CutSuffix(rest, `"]`)
	if !ok {
		return "", "", false
	}
	batch, key, ok = strings.Cut(rest, `["`)
	return batch, key, ok
}

// isLowerHex reports whether s is made of 0-9 and a-f only.
func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// uuidBytes returns the 16 bytes of a lower-case canonical UUID.
func uuidBytes(s string) ([]byte, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, false
	}
	compact := s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if !isLowerHex(compact) {
		return nil, false
	}
	b, err := hex.DecodeString(compact)
	return b, err == nil
}

func uuidString(b []byte) string {
	if len(b) != 16 {
		return "" // a short read, already recorded as an error
	}
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// encodeRecord appends r (checked by checkRecord) to dst in a compact
// binary form: the format byte, a flags byte, then every field but the
// address in declaration order (less those a flag says are implied),
// strings as a uvarint length and bytes, integers as varints. Times are
// Unix nanoseconds, each written as a zig-zag difference from the previous
// non-zero time plus one, so that the zero time is 0 and the close times
// of one send take a few bytes.
func encodeRecord(dst []byte, r *state.Record) []byte {
	str := func(s string) {
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	num := func(n int64) { dst = binary.AppendVarint(dst, n) }
	var prev int64
	tim := func(t time.Time) {
		var n int64 // the zero time; checkRecord refused the unstorable ones
		if !t.IsZero() {
			n = t.UnixNano()
		}
		if n == 0 {
			dst = binary.AppendUvarint(dst, 0)
			return
		}
		d := n - prev
		dst = binary.AppendUvarint(dst, uint64(d<<1^d>>63)+1)
		prev = n
	}
	var flags byte
	if b, k, ok := splitAddress(r.Address); ok && b == r.Batch && k == r.Key {
		flags |= flagDerivedKey
	}
	if r.Recipients == r.Key {
		flags |= flagRecipKey
	}
	digest, digestOK := []byte(nil), r.Digest != "" && len(r.Digest)%2 == 0 && len(r.Digest) <= 128 && isLowerHex(r.Digest)
	if digestOK {
		digest, _ = hex.DecodeString(r.Digest)
		flags |= flagRawDigest
	}
	msgID, msgIDOK := uuidBytes(r.MessageID)
	if msgIDOK {
		flags |= flagRawMessageID
	}
	dst = append(dst, recordFormat, flags)
	if flags&flagDerivedKey == 0 {
		str(r.Batch)
		str(r.Key)
	}
	if flags&flagRecipKey == 0 {
		str(r.Recipients)
	}
	str(r.Stream)
	str(r.Tag)
	if digestOK {
		dst = append(dst, byte(len(digest)))
		dst = append(dst, digest...)
	} else {
		str(r.Digest)
	}
	str(r.PFID)
	str(string(r.Status))
	if msgIDOK {
		dst = append(dst, msgID...)
	} else {
		str(r.MessageID)
	}
	tim(r.SubmittedAt)
	tim(r.FirstAttemptAt)
	tim(r.LastAttemptAt)
	num(int64(r.Attempts))
	num(int64(r.ErrorCode))
	str(r.ErrorMessage)
	str(string(r.Delivery))
	str(r.BounceType)
	num(r.BounceID)
	inactive := int64(0)
	if r.Inactive {
		inactive = 1
	}
	num(inactive)
	tim(r.DeliveredAt)
	tim(r.LastEventAt)
	tim(r.CheckedAt)
	num(int64(r.Duplicates))
	if r.Generation != 0 {
		dst = binary.AppendUvarint(dst, tagGeneration)
		num(int64(r.Generation))
	}
	if r.PFBatch != "" {
		dst = binary.AppendUvarint(dst, tagPFBatch)
		str(r.PFBatch)
	}
	return dst
}

// errCorrupt is wrapped by every decoding failure.
var errCorrupt = errors.New("damaged value")

// decoder reads the fields encodeRecord wrote, remembering the first
// failure.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) str() string {
	if d.err != nil {
		return ""
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)-k) {
		d.err = errCorrupt
		return ""
	}
	s := string(d.b[k : k+int(n)])
	d.b = d.b[k+int(n):]
	return s
}

func (d *decoder) num() int64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Varint(d.b)
	if k <= 0 {
		d.err = errCorrupt
		return 0
	}
	d.b = d.b[k:]
	return n
}

// raw reads n bytes.
func (d *decoder) raw(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.err = errCorrupt
		return nil
	}
	b := d.b[:n]
	d.b = d.b[n:]
	return b
}

// tim reads a time written by encodeRecord's tim; prev carries the last
// non-zero time between calls.
func (d *decoder) tim(prev *int64) time.Time {
	if d.err != nil {
		return time.Time{}
	}
	u, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.err = errCorrupt
		return time.Time{}
	}
	d.b = d.b[k:]
	if u == 0 {
		return time.Time{}
	}
	u--
	n := *prev + int64(u>>1^-(u&1))
	*prev = n
	if n == 0 {
		d.err = errCorrupt // a non-zero time never encodes as 0
		return time.Time{}
	}
	return decodeTime(n)
}

// decodeRecord is the inverse of encodeRecord; address is the record's key.
func decodeRecord(address string, b []byte) (state.Record, error) {
	if len(b) < 2 || (b[0] != recordFormat && b[0] != recordFormatV1) {
		return state.Record{}, fmt.Errorf("record %s: %w (unknown format)", address, errCorrupt)
	}
	flags := b[1]
	d := decoder{b: b[2:]}
	r := state.Record{Address: address}
	if flags&flagDerivedKey != 0 {
		batch, key, ok := splitAddress(address)
		if !ok {
			return state.Record{}, fmt.Errorf("record %s: %w (address without batch and key)", address, errCorrupt)
		}
		r.Batch, r.Key = batch, key
	} else {
		r.Batch = d.str()
		r.Key = d.str()
	}
	if flags&flagRecipKey != 0 {
		r.Recipients = r.Key
	} else {
		r.Recipients = d.str()
	}
	r.Stream = d.str()
	r.Tag = d.str()
	if flags&flagRawDigest != 0 {
		n := 0
		if b := d.raw(1); b != nil {
			n = int(b[0])
		}
		r.Digest = hex.EncodeToString(d.raw(n))
	} else {
		r.Digest = d.str()
	}
	r.PFID = d.str()
	r.Status = state.Status(d.str())
	if flags&flagRawMessageID != 0 {
		r.MessageID = uuidString(d.raw(16))
	} else {
		r.MessageID = d.str()
	}
	var prev int64
	r.SubmittedAt = d.tim(&prev)
	r.FirstAttemptAt = d.tim(&prev)
	r.LastAttemptAt = d.tim(&prev)
	r.Attempts = int(d.num())
	r.ErrorCode = int(d.num())
	r.ErrorMessage = d.str()
	r.Delivery = state.Delivery(d.str())
	r.BounceType = d.str()
	r.BounceID = d.num()
	r.Inactive = d.num() != 0
	r.DeliveredAt = d.tim(&prev)
	r.LastEventAt = d.tim(&prev)
	r.CheckedAt = d.tim(&prev)
	r.Duplicates = int(d.num())
	if b[0] == recordFormat {
		d.tail(&r)
	}
	if d.err == nil && (len(d.b) != 0 || flags >= flagRawMessageID<<1) {
		d.err = errCorrupt
	}
	if d.err != nil {
		return state.Record{}, fmt.Errorf("record %s: %w", address, d.err)
	}
	return r, nil
}

// tail reads the optional fields of format 2 into r.
func (d *decoder) tail(r *state.Record) {
	last := uint64(0)
	for d.err == nil && len(d.b) > 0 {
		tag, k := binary.Uvarint(d.b)
		if k <= 0 || tag <= last {
			d.err = errCorrupt
			return
		}
		d.b, last = d.b[k:], tag
		switch tag {
		case tagGeneration:
			r.Generation = int(d.num())
		case tagPFBatch:
			r.PFBatch = d.str()
		default:
			d.err = fmt.Errorf("%w (field %d is unknown: written by a newer postform?)", errCorrupt, tag)
		}
	}
}

// encodeIntent encodes records announced as sending: a count, then each
// address followed by its encoded record.
func encodeIntent(recs []state.Record) []byte {
	dst := make([]byte, 0, 256*len(recs))
	dst = binary.AppendUvarint(dst, uint64(len(recs)))
	var rec []byte
	for i := range recs {
		dst = binary.AppendUvarint(dst, uint64(len(recs[i].Address)))
		dst = append(dst, recs[i].Address...)
		rec = encodeRecord(rec[:0], &recs[i])
		dst = binary.AppendUvarint(dst, uint64(len(rec)))
		dst = append(dst, rec...)
	}
	return dst
}

// decodeIntent is the inverse of encodeIntent.
func decodeIntent(b []byte) ([]state.Record, error) {
	d := decoder{b: b}
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errCorrupt
	}
	d.b = d.b[k:]
	recs := make([]state.Record, 0, n)
	for range n {
		addr := d.str()
		raw := d.str()
		if d.err != nil {
			return nil, d.err
		}
		r, err := decodeRecord(addr, []byte(raw))
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	if len(d.b) != 0 {
		return nil, errCorrupt
	}
	return recs, nil
}

// encodeSuppression and decodeSuppression store the fields of a
// suppression that its key does not hold.
func encodeSuppression(x *state.Suppression, at int64) []byte {
	dst := []byte{suppressionFormat}
	dst = binary.AppendUvarint(dst, uint64(len(x.Reason)))
	dst = append(dst, x.Reason...)
	dst = binary.AppendUvarint(dst, uint64(len(x.MessageID)))
	dst = append(dst, x.MessageID...)
	return binary.AppendVarint(dst, at)
}

func decodeSuppression(stream, email string, b []byte) (state.Suppression, error) {
	if len(b) == 0 || b[0] != suppressionFormat {
		return state.Suppression{}, fmt.Errorf("suppression %s: %w", email, errCorrupt)
	}
	d := decoder{b: b[1:]}
	x := state.Suppression{Email: email, Stream: stream}
	x.Reason = d.str()
	x.MessageID = d.str()
	x.At = decodeTime(d.num())
	if d.err == nil && len(d.b) != 0 {
		d.err = errCorrupt
	}
	if d.err != nil {
		return state.Suppression{}, fmt.Errorf("suppression %s: %w", email, d.err)
	}
	return x, nil
}
