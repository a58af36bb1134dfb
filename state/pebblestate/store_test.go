package pebblestate_test

import (
	"path/filepath"
	"testing"

	"github.com/postform/postform/state"
	"github.com/postform/postform/state/pebblestate"
	"github.com/postform/postform/state/statetest"
)

func TestConformance(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Store {
		s, err := pebblestate.Open(t.Context(), filepath.Join(t.TempDir(), "state"), pebblestate.Options{Target: "simulator"})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}
