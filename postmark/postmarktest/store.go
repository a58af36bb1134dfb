package postmarktest

import (
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"time"
)

// chunkBits sets the size of the fixed-capacity chunks that hold stored
// messages: appending never moves a stored message, and growth never copies
// a million-entry slice.
const (
	chunkBits = 13
	chunkSize = 1 << chunkBits
)

// stored is one accepted message as the simulator keeps it. It holds only
// what the search, details and bounce endpoints need; bodies are kept while
// the body budget lasts.
type stored struct {
	id          [16]byte
	receivedAt  int64 // Unix nanoseconds by the Now clock
	stream      string
	from        string
	fromAddr    string
	to, cc, bcc string
	subject     string
	tag         string
	html, text  bodyRef
	trackLinks  string
	trackOpens  bool
	inactive    uint64 // bit i: rcpts[i] was suppressed at acceptance
	meta        []kv
	rcpts       []recipient
	attachments []string
}

// metaKey indexes a metadata pair; the key is lower-cased because keys are
// unique case-insensitively.
type metaKey struct{ key, value string }

// bounceRec is a bounce that exists from its time on (lazily: nothing runs
// when the time comes; readers compare with the clock).
type bounceRec struct {
	id       int64
	at       int64 // Unix nanoseconds
	msg      uint32
	email    string
	kind     bounceKind
	inactive bool
}

// suppKey identifies a suppressed address on a stream.
type suppKey struct{ stream, email string }

// suppression records when an address became inactive on a stream and why.
type suppression struct {
	since  int64 // Unix nanoseconds; the suppression applies from then on
	reason string
	origin string
	email  string
}

// store holds every accepted message and the indexes over them. All fields
// are guarded by Server.mu.
type store struct {
	chunks [][]stored
	n      uint32

	byID      map[[16]byte]uint32
	metaFirst map[metaKey]uint32
	metaMore  map[metaKey][]uint32

	bounces    []bounceRec
	bounceByID map[int64]int
	nextBounce int64

	suppressed map[suppKey]suppression

	bodyBudget int64
	bodies     [][]byte // stored bodies, back to back in blocks of bodyBlock bytes
	ids        *rand.Rand
}

// bodyBlock is the size of the blocks that hold stored bodies: one
// allocation for hundreds of bodies, none of them a separate object.
const bodyBlock = 1 << 20

// bodyRef locates a stored body: n bytes at off in block.
type bodyRef struct{ block, off, n uint32 }

func newStore(seed uint64, bodyBudget int64) *store {
	return &store{
		byID:       make(map[[16]byte]uint32),
		metaFirst:  make(map[metaKey]uint32),
		metaMore:   make(map[metaKey][]uint32),
		bounceByID: make(map[int64]int),
		nextBounce: 1000000001,
		suppressed: make(map[suppKey]suppression),
		bodyBudget: bodyBudget,
		ids:        rand.New(rand.NewPCG(seed, 0x6d736769647300)), // "msgids"
	}
}

func (st *store) at(i uint32) *stored {
	return &st.chunks[i>>chunkBits][i&(chunkSize-1)]
}

// newID draws a random (version 4) UUID from the seeded generator.
func (st *store) newID() [16]byte {
	var id [16]byte
	a, b := st.ids.Uint64(), st.ids.Uint64()
	for i := 0; i < 8; i++ {
		id[i] = byte(a >> (8 * i))
		id[8+i] = byte(b >> (8 * i))
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

// inactive returns a mask of the recipients of p suppressed on its stream
// at now (bit i for p.rcpts[i]) and their addresses.
func (st *store) inactive(p *prepared, now int64) (uint64, []string) {
	if len(st.suppressed) == 0 {
		return 0, nil
	}
	var mask uint64
	var out []string
	for i, r := range p.rcpts {
		if sup, ok := st.suppressed[suppKey{p.stream, strings.ToLower(r.Email)}]; ok && sup.since <= now {
			mask |= 1 << i
			out = append(out, r.Email)
		}
	}
	return mask, out
}

// add stores an accepted message and returns its index. inactive is the
// mask returned by st.inactive: those recipients get no events or bounces.
func (st *store) add(p *prepared, now int64, delay time.Duration, inactive uint64) uint32 {
	if st.n>>chunkBits == uint32(len(st.chunks)) {
		st.chunks = append(st.chunks, make([]stored, 0, chunkSize))
	}
	idx := st.n
	c := &st.chunks[idx>>chunkBits]
	*c = append(*c, stored{
		receivedAt: now, stream: p.stream, from: p.from, fromAddr: p.fromAddr, to: p.to, cc: p.cc, bcc: p.bcc,
		subject: p.subject, tag: p.tag, trackLinks: p.trackLinks, trackOpens: p.trackOpens,
		meta: p.meta, rcpts: p.rcpts, attachments: p.attachments, inactive: inactive,
	})
	st.n++
	m := st.at(idx)
	m.html = st.keepBody(p.html)
	m.text = st.keepBody(p.text)
	for {
		m.id = st.newID()
		if _, dup := st.byID[m.id]; !dup {
			break
		}
	}
	st.byID[m.id] = idx
	for _, e := range p.meta {
		k := metaKey{strings.ToLower(e.Key), e.Value}
		if _, ok := st.metaFirst[k]; ok {
			st.metaMore[k] = append(st.metaMore[k], idx)
		} else {
			st.metaFirst[k] = idx
		}
	}
	for i, r := range p.rcpts {
		kind, ok := bounceKindFor(r.Email)
		if !ok || inactive&(1<<i) != 0 {
			continue
		}
		at := now + int64(delay)
		b := bounceRec{id: st.nextBounce, at: at, msg: idx, email: r.Email, kind: kind, inactive: kind.inactive}
		st.nextBounce++
		st.bounceByID[b.id] = len(st.bounces)
		st.bounces = append(st.bounces, b)
		if b.inactive {
			key := suppKey{p.stream, strings.ToLower(r.Email)}
			if old, ok := st.suppressed[key]; !ok || old.since > at {
				st.suppressed[key] = suppression{since: at, reason: "HardBounce", origin: "Recipient", email: r.Email}
			}
		}
	}
	return idx
}

// keepBody copies a body into the body blocks while the body budget
// lasts; once it is gone bodies are truncated, then dropped.
func (st *store) keepBody(body bodyText) bodyRef {
	n := int64(body.len())
	if n == 0 || st.bodyBudget == 0 {
		return bodyRef{}
	}
	if n > st.bodyBudget {
		n = st.bodyBudget
	}
	st.bodyBudget -= n
	last := len(st.bodies) - 1
	if last < 0 || int64(cap(st.bodies[last])-len(st.bodies[last])) < n {
		st.bodies = append(st.bodies, make([]byte, 0, max(bodyBlock, n)))
		last++
	}
	blk := st.bodies[last]
	ref := bodyRef{block: uint32(last), off: uint32(len(blk)), n: uint32(n)}
	st.bodies[last] = body.appendPrefix(blk, int(n))
	return ref
}

// body returns a stored body.
func (st *store) body(ref bodyRef) string {
	if ref.n == 0 {
		return ""
	}
	return string(st.bodies[ref.block][ref.off : ref.off+ref.n])
}

// lookupMeta returns the indexes of messages carrying key=value, oldest
// first.
func (st *store) lookupMeta(key, value string) []uint32 {
	k := metaKey{strings.ToLower(key), value}
	first, ok := st.metaFirst[k]
	if !ok {
		return nil
	}
	return append([]uint32{first}, st.metaMore[k]...)
}

// parseID parses a lowercase or uppercase UUID string.
func parseID(s string) ([16]byte, bool) {
	var id [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return id, false
	}
	hexDigits := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(id[:], []byte(hexDigits)); err != nil {
		return id, false
	}
	return id, true
}

// formatID renders a UUID in Postmark's lowercase form.
func formatID(id [16]byte) string {
	var buf [36]byte
	hex.Encode(buf[0:8], id[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], id[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], id[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], id[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:36], id[10:16])
	return string(buf[:])
}
