package postmark

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2014-02-17T07:25:01.4178645-05:00", time.Date(2014, 2, 17, 12, 25, 1, 417864500, time.UTC)},
		{"2014-07-17T07:25:01.4178645-04:00", time.Date(2014, 7, 17, 11, 25, 1, 417864500, time.UTC)},
		{"2026-09-30T16:03:52.7892753Z", time.Date(2026, 9, 30, 16, 3, 52, 789275300, time.UTC)},
		{"2014-01-15T16:09:19Z", time.Date(2014, 1, 15, 16, 9, 19, 0, time.UTC)},
		// No offset: US Eastern, standard and daylight time.
		{"2014-02-17T07:25:01.4178645", time.Date(2014, 2, 17, 12, 25, 1, 417864500, time.UTC)},
		{"2026-07-01T12:00:00", time.Date(2026, 7, 1, 16, 0, 0, 0, time.UTC)},
		{"2026-07-01 12:00:00", time.Date(2026, 7, 1, 16, 0, 0, 0, time.UTC)},
		{"2026-01-02", time.Date(2026, 1, 2, 5, 0, 0, 0, time.UTC)},
		{"", time.Time{}},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in)
		if err != nil {
			t.Errorf("parseTime(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("parseTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"yesterday", "2014-13-01T00:00:00Z", "17/02/2014"} {
		if _, err := parseTime(bad); err == nil {
			t.Errorf("parseTime(%q) succeeded, want an error", bad)
		}
	}
}

func TestSearchTime(t *testing.T) {
	t.Parallel()
	for in, want := range map[time.Time]string{
		time.Date(2026, 1, 15, 17, 0, 0, 0, time.UTC):                        "2026-01-15T12:00:00",
		time.Date(2026, 7, 15, 17, 0, 0, 999, time.UTC):                      "2026-07-15T13:00:00",
		time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC):                         "2026-03-08T03:30:00", // after the spring-forward
		time.Date(2026, 7, 15, 13, 0, 0, 0, time.FixedZone("EDT", -4*60*60)): "2026-07-15T13:00:00",
	} {
		if got := searchTime(in); got != want {
			t.Errorf("searchTime(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestFlexInt(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]flexInt{`194`: 194, `"194"`: 194, `" 7 "`: 7, `null`: 0, `""`: 0, `0`: 0} {
		var got flexInt
		if err := json.Unmarshal([]byte(in), &got); err != nil || got != want {
			t.Errorf("unmarshal %s = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{`"abc"`, `1.5`, `true`, `{}`} {
		var got flexInt
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("unmarshal %s succeeded, want an error", bad)
		}
	}
}

// TestFixturesDecode decodes every fixture: the ones this client has a
// type for into that type, and every *At time stamp of every fixture with
// parseTime, so a new time format in the reference breaks a test.
func TestFixturesDecode(t *testing.T) {
	t.Parallel()
	typed := map[string]any{
		"send-response.json":            new(SendResult),
		"send-response-test-token.json": new(SendResult),
		"batch-response.json":           new([]SendResult),
		"outbound-search.json":          new(OutboundList),
		"message-details.json":          new(MessageDetails),
		"bounces-search.json":           new(BounceList),
		"bounce-webhook.json":           new(Bounce),
		"error-response.json":           new(SendResult), // same {ErrorCode, Message} envelope
		"error-inactive-recipient.json": new(SendResult),
	}
	paths, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	stamps := 0
	for _, p := range paths {
		name := filepath.Base(p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := typed[name]; ok {
			if err := json.Unmarshal(b, v); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		var generic any
		if err := json.Unmarshal(b, &generic); err != nil {
			t.Errorf("%s: not JSON: %v", name, err)
			continue
		}
		walkStamps(generic, func(key, value string) {
			stamps++
			got, err := parseTime(value)
			if err != nil || got.IsZero() {
				t.Errorf("%s: %s = %q: %v", name, key, value, err)
			}
		})
	}
	if stamps < 10 {
		t.Errorf("found only %d time stamps in the fixtures; the walk is broken", stamps)
	}
	var inactive SendResult
	_ = json.Unmarshal(fixture(t, "error-inactive-recipient.json"), &inactive)
	if inactive.ErrorCode != 406 || !strings.Contains(inactive.Message, "a@example.com, b@example.com") {
		t.Errorf("error-inactive-recipient decoded as %+v", inactive)
	}
	var list OutboundList
	_ = json.Unmarshal(fixture(t, "outbound-search.json"), &list)
	if diff := cmp.Diff(map[string]string{}, list.Messages[1].Metadata); diff != "" {
		t.Errorf("empty metadata mismatch: %s", diff)
	}
}

func walkStamps(v any, f func(key, value string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && strings.HasSuffix(k, "At") {
				f(k, s)
				continue
			}
			walkStamps(x, f)
		}
	case []any:
		for _, x := range v {
			walkStamps(x, f)
		}
	}
}
