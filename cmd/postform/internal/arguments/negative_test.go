package arguments

import "testing"

func TestNegativeValuesAreRefused(t *testing.T) {
	cases := []struct {
		name  string
		parse func() error
	}{
		{"apply -reconcile-grace", func() error { _, err := ParseApply([]string{"-reconcile-grace=-1s"}); return err }},
		{"apply -poll-interval", func() error { _, err := ParseApply([]string{"-poll-interval=-1s"}); return err }},
		{"apply -max-lines", func() error { _, err := ParseApply([]string{"-max-lines=-1"}); return err }},
		{"refresh -wait", func() error { _, err := ParseRefresh([]string{"-wait=-1s"}); return err }},
		{"refresh -parallelism", func() error { _, err := ParseRefresh([]string{"-parallelism=-2"}); return err }},
		{"show -max-lines", func() error { _, err := ParseShow([]string{"-max-lines=-2"}); return err }},
		{"sim NaN fault", func() error { _, err := ParseSim([]string{"-fault-429=NaN"}); return err }},
		{"state list with an argument", func() error { _, err := ParseState([]string{"list", "batch.x"}); return err }},
	}
	for _, c := range cases {
		if c.parse() == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}
