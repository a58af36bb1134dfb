package config

import (
	"fmt"
	"os"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

func TestSmoke(t *testing.T) {
	fsys := dirFS(t, "testdata/valid-files", "spec_example")
	p := NewParser(fsys)
	cfg, diags := p.LoadConfig()
	wr := hcl.NewDiagnosticTextWriter(os.Stdout, p.Files(), 100, false)
	wr.WriteDiagnostics(diags)
	ev, diags := cfg.Evaluate(Inputs{Env: map[string]string{"POSTMARK_SERVER_TOKEN": "tok"}})
	wr = hcl.NewDiagnosticTextWriter(os.Stdout, p.Files(), 100, false)
	wr.WriteDiagnostics(diags)
	fmt.Printf("%+v\n%+v\n", ev.Postmark, ev.Runner)
	for _, b := range ev.Batches {
		for m, d := range b.Messages() {
			fmt.Printf("%+v\n", *m)
			wr.WriteDiagnostics(d)
		}
	}
	fmt.Println(len(ev.Snapshot.Files), ev.Snapshot.Env)
}
