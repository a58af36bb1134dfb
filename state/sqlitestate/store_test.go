package sqlitestate_test

import (
	"path/filepath"
	"testing"

	"github.com/postform/postform/state"
	"github.com/postform/postform/state/sqlitestate"
	"github.com/postform/postform/state/statetest"
)

func TestConformance(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Store {
		s, err := sqlitestate.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"), sqlitestate.Options{Target: "simulator"})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}
