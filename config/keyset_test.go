package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
)

// TestKeySetCollisions forces every key to the same hash and checks that
// duplicates are still told apart from collisions exactly.
func TestKeySetCollisions(t *testing.T) {
	keys := []string{"a", "b", "a", "c", "b", "d", "a"}
	s := newKeySet(func(ref rowRef) (string, bool) { return keys[ref.index], true })
	s.hash = func(string) uint64 { return 42 }
	var got []string
	for i, k := range keys {
		if first, dup := s.add(k, rowRef{index: int32(i), line: int32(i + 2)}); dup {
			got = append(got, k+"@"+string(rune('0'+first.index)))
		}
	}
	want := []string{"a@0", "b@1", "a@0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("duplicates (-want +got):\n%s", diff)
	}
}

// TestStreamedDuplicatesWithCollidingHashes runs a streamed batch with a
// hash that always collides, so every duplicate check recomputes the earlier
// row's key from the file.
func TestStreamedDuplicatesWithCollidingHashes(t *testing.T) {
	fsys := files(map[string]string{
		"main.pf.hcl": `
batch "b" {
  for_each = { for i, r in csvfile("d.csv") : "${lower(r.email)}-${i % 2}" => r }
  from     = "news@acme.example"
  to       = each.value.email
  text     = "x"
}
`,
		"d.csv": "email\nA@example.com\nb@example.com\na@example.com\nc@example.com\nb@example.com\nb@example.com\n",
	})
	_, ev := mustEvaluate(t, fsys, Inputs{})
	b := ev.Batches[0]
	r := b.newRenderer()
	var got []string
	r.streamCSVWith(func(ks *keySet) { ks.hash = func(string) uint64 { return 7 } }, func(m *Message, diags hcl.Diagnostics) bool {
		for _, d := range diags {
			got = append(got, m.Address+" "+d.Summary+" "+d.Subject.String())
		}
		return true
	})
	want := []string{
		`batch.b["a@example.com-0"] Duplicate for_each key d.csv:4,1-14`,
		`batch.b["b@example.com-1"] Duplicate for_each key d.csv:7,1-14`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
