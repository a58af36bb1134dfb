package views

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/postform/postform/runner"
)

func TestRedactHidesEveryLocalPart(t *testing.T) {
	for _, in := range []string{"ann=x@example.com", "josé.garcía@example.com", "o&neil@example.com", "jörg@example.com"} {
		out := Redact(in)
		local := in[:strings.LastIndexByte(in, '@')]
		if strings.Contains(out, local) || !strings.HasSuffix(out, "***@example.com") {
			t.Errorf("Redact(%q) = %q", in, out)
		}
	}
}

func TestRedactCoversErrorsAndDiagnostics(t *testing.T) {
	var buf bytes.Buffer
	j := NewJSONLines(&buf, "test")
	v := NewPlanJSON(j, true, nil)
	v.PlannedMessage(runner.PlanEntry{Address: `batch.x["ann@example.com"]`, Action: runner.ActionFailed, ErrorCode: 406,
		Error: "Found inactive addresses: ann@example.com."})
	v.PlannedMessage(runner.PlanEntry{Address: `batch.x["bob@example"]`, Action: runner.ActionInvalid,
		Diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid recipient address", Detail: `batch.x["bob@example"]: "bob@example" is not an address.`}}})
	a := NewApplyJSON(j, true)
	a.MessageResult(runner.MessageResult{Address: `batch.x["cy@example.com"]`, Outcome: runner.OutcomeFailed, ErrorCode: 406, Error: "inactive: cy@example.com"})
	for _, secret := range []string{"ann@", "bob@", "cy@"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("JSON output shows %q:\n%s", secret, buf.String())
		}
	}
	var human bytes.Buffer
	h := NewPlanHuman(Streams{Out: &human, Width: 100}, PlanOptions{Redact: true})
	h.PlannedMessage(runner.PlanEntry{Address: `batch.x["ann@example.com"]`, Batch: "x", Action: runner.ActionFailed, ErrorCode: 300, Error: "Invalid 'To' address: 'ann@example.com'."})
	h.PlannedMessage(runner.PlanEntry{Address: `batch.x["bob@example"]`, Batch: "x", Action: runner.ActionInvalid,
		Diags: hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid recipient address", Detail: `"bob@example" is not an address.`}}})
	h.PlanDone(runner.PlanSummary{Failed: 1, Invalid: 1})
	for _, secret := range []string{"ann@", "bob@"} {
		if strings.Contains(human.String(), secret) {
			t.Errorf("human output shows %q:\n%s", secret, human.String())
		}
	}
}
