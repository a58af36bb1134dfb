// Package planfile reads and writes postform's saved plans (plan -out).
//
// A plan file is a zip archive holding:
//
//	plan.json          the header: format version, tool version, the state's
//	                   lineage, serial and target at plan time, the -target and
//	                   -replace selection, the summary, and a SHA-256 digest of
//	                   every other member
//	inputs.json        the -var and -var-file values and the environment
//	                   variables the configuration read (never the token)
//	files/<path>       the configuration and every data file it read
//	entries.jsonl      one line per message: address, action, content digest,
//	                   recipients and a shortened subject
//
// It is self-contained (apply re-evaluates the configuration from the
// snapshot, not from the working directory), compact (no message bodies:
// a digest stands for them) and written atomically. Open verifies every
// digest, so a damaged or edited plan is refused.
package planfile

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/google/renameio/v2"
)

// FormatVersion is the version of the plan file format.
const FormatVersion = "1"

// Header is plan.json.
type Header struct {
	FormatVersion string            `json:"format_version"`
	ToolVersion   string            `json:"tool_version"`
	Lineage       string            `json:"lineage"` // empty when no state existed
	Serial        int64             `json:"serial"`
	Target        string            `json:"target"`
	Targets       []string          `json:"targets"`
	Replace       []string          `json:"replace"`
	Summary       Summary           `json:"summary"`
	EntryCount    int               `json:"entry_count"`
	Digests       map[string]string `json:"digests"` // member name → sha256 hex
}

// Summary counts the plan's actions.
type Summary struct {
	ToSend     int `json:"to_send"`
	Sent       int `json:"already_sent"`
	Changed    int `json:"changed"`
	Invalid    int `json:"invalid"`
	Suppressed int `json:"suppressed"`
	Failed     int `json:"failed"`
	Reconcile  int `json:"reconcile"`
	Total      int `json:"total"`
}

// Inputs is inputs.json.
type Inputs struct {
	Vars     []string          `json:"vars"`
	VarFiles []VarFile         `json:"var_files"`
	Env      map[string]string `json:"env"`
}

// VarFile is one -var-file's name and content.
type VarFile struct {
	Name string `json:"name"`
	Src  string `json:"src"`
}

// Entry is one message of the plan.
type Entry struct {
	Address string `json:"a"`
	Action  string `json:"x"`
	Digest  string `json:"d,omitempty"`
	To      string `json:"to,omitempty"`
	Subject string `json:"s,omitempty"`
}

const (
	headerName  = "plan.json"
	inputsName  = "inputs.json"
	entriesName = "entries.jsonl"
	filesPrefix = "files/"
	subjectMax  = 120
)

// Writer collects a plan's entries in a temporary file while the plan
// streams, then writes the archive with Finish.
type Writer struct {
	tmp *os.File
	buf *bufio.Writer
	enc *json.Encoder
	sum hash.Hash
	n   int
}

// NewWriter starts a plan whose entries are buffered in a temporary file in
// dir (the plan's destination directory).
func NewWriter(dir string) (*Writer, error) {
	tmp, err := os.CreateTemp(dir, ".postform-plan-*.tmp")
	if err != nil {
		return nil, err
	}
	w := &Writer{tmp: tmp, sum: sha256.New()}
	w.buf = bufio.NewWriterSize(io.MultiWriter(tmp, w.sum), 1<<16)
	w.enc = json.NewEncoder(w.buf)
	return w, nil
}

// Add appends one entry. Subjects are shortened: the digest, not the
// subject, is what apply checks.
func (w *Writer) Add(e Entry) error {
	if len(e.Subject) > subjectMax {
		e.Subject = e.Subject[:subjectMax] + "…"
	}
	w.n++
	return w.enc.Encode(e)
}

// Abort discards the plan.
func (w *Writer) Abort() {
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}

// Finish writes the archive to path atomically. It refuses (and writes
// nothing) if any of secrets occurs in the header, inputs, files or
// entries: a plan file must never carry the server token.
func (w *Writer) Finish(path string, h Header, files map[string][]byte, in Inputs, secrets []string) error {
	defer w.Abort()
	if err := w.buf.Flush(); err != nil {
		return err
	}
	h.FormatVersion = FormatVersion
	h.EntryCount = w.n
	h.Digests = map[string]string{entriesName: hex.EncodeToString(w.sum.Sum(nil))}
	if h.Targets == nil {
		h.Targets = []string{}
	}
	if h.Replace == nil {
		h.Replace = []string{}
	}
	if in.Vars == nil {
		in.Vars = []string{}
	}
	if in.VarFiles == nil {
		in.VarFiles = []VarFile{}
	}
	if in.Env == nil {
		in.Env = map[string]string{}
	}
	inputs, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		return err
	}
	h.Digests[inputsName] = digest(inputs)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
		h.Digests[filesPrefix+name] = digest(files[name])
	}
	sort.Strings(names)
	header, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}

	// The token must never reach the file: check every member in the clear.
	for _, s := range secrets {
		if s == "" {
			continue
		}
		leak := bytes.Contains(header, []byte(s)) || bytes.Contains(inputs, []byte(s))
		for _, name := range names {
			leak = leak || bytes.Contains(files[name], []byte(s))
		}
		if !leak {
			leak, err = fileContains(w.tmp.Name(), s)
			if err != nil {
				return err
			}
		}
		if leak {
			return errors.New("refusing to write the plan: the Postmark server token appears in the configuration's inputs or files; pass it only through the environment (POSTMARK_SERVER_TOKEN)")
		}
	}

	out, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o600))
	if err != nil {
		return err
	}
	defer out.Cleanup()
	zw := zip.NewWriter(out)
	if err := addMember(zw, headerName, bytes.NewReader(header)); err != nil {
		return err
	}
	if err := addMember(zw, inputsName, bytes.NewReader(inputs)); err != nil {
		return err
	}
	for _, name := range names {
		if err := addMember(zw, filesPrefix+name, bytes.NewReader(files[name])); err != nil {
			return err
		}
	}
	entries, err := os.Open(w.tmp.Name())
	if err != nil {
		return err
	}
	defer entries.Close()
	if err := addMember(zw, entriesName, entries); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return out.CloseAtomicallyReplace()
}

func addMember(zw *zip.Writer, name string, r io.Reader) error {
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	return err
}

func fileContains(path, s string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			return true, nil
		}
	}
	return false, sc.Err()
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Plan is an opened plan file.
type Plan struct {
	Header Header
	Inputs Inputs
	Files  map[string][]byte

	zr      *zip.ReadCloser
	entries *zip.File
}

// CorruptError reports a plan file that is not a valid postform plan.
type CorruptError struct {
	Path   string
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("%s is not a usable postform plan: %s", e.Path, e.Reason)
}

// Open reads a plan file and verifies every member's digest. The entries
// are read later, as a stream, through Entries.
func Open(path string) (*Plan, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, &CorruptError{Path: path, Reason: err.Error()}
	}
	p := &Plan{zr: zr, Files: map[string][]byte{}}
	bad := func(reason string) (*Plan, error) {
		zr.Close()
		return nil, &CorruptError{Path: path, Reason: reason}
	}
	members := map[string]*zip.File{}
	for _, f := range zr.File {
		members[f.Name] = f
	}
	hf := members[headerName]
	if hf == nil {
		return bad("plan.json is missing")
	}
	raw, err := readMember(hf)
	if err != nil {
		return bad(err.Error())
	}
	if err := json.Unmarshal(raw, &p.Header); err != nil {
		return bad("plan.json: " + err.Error())
	}
	if p.Header.FormatVersion != FormatVersion {
		return bad(fmt.Sprintf("format version %q is not supported (this postform reads %q)", p.Header.FormatVersion, FormatVersion))
	}
	for name, f := range members {
		if name == headerName {
			continue
		}
		want, ok := p.Header.Digests[name]
		if !ok {
			return bad(name + " is not listed in plan.json")
		}
		if name == entriesName {
			p.entries = f
			got, err := memberDigest(f)
			if err != nil {
				return bad(err.Error())
			}
			if got != want {
				return bad("entries.jsonl does not match its digest")
			}
			continue
		}
		data, err := readMember(f)
		if err != nil {
			return bad(err.Error())
		}
		if digest(data) != want {
			return bad(name + " does not match its digest")
		}
		if name == inputsName {
			if err := json.Unmarshal(data, &p.Inputs); err != nil {
				return bad("inputs.json: " + err.Error())
			}
		} else if rel, ok := strings.CutPrefix(name, filesPrefix); ok {
			p.Files[rel] = data
		}
	}
	for name := range p.Header.Digests {
		if members[name] == nil {
			return bad(name + " is missing")
		}
	}
	if p.entries == nil {
		return bad("entries.jsonl is missing")
	}
	return p, nil
}

// Close releases the file.
func (p *Plan) Close() error { return p.zr.Close() }

// Entries streams the plan's entries in order.
func (p *Plan) Entries() (*EntryReader, error) {
	rc, err := p.entries.Open()
	if err != nil {
		return nil, err
	}
	return &EntryReader{rc: rc, dec: json.NewDecoder(bufio.NewReaderSize(rc, 1<<16))}, nil
}

// EntryReader yields entries one at a time.
type EntryReader struct {
	rc  io.ReadCloser
	dec *json.Decoder
}

// Next returns the next entry, or io.EOF after the last.
func (r *EntryReader) Next() (Entry, error) {
	var e Entry
	if err := r.dec.Decode(&e); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// Close releases the reader.
func (r *EntryReader) Close() error { return r.rc.Close() }

func readMember(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 1<<30))
}

func memberDigest(f *zip.File) (string, error) {
	rc, err := f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if _, err := io.Copy(h, rc); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
