package postmarktest

import (
	"net/http"
	"strings"
	"testing"
)

func TestAnyTemplateStandsInForUnknownTemplates(t *testing.T) {
	t.Parallel()
	for _, any := range []bool{false, true} {
		s := NewServer(t, Options{AnyTemplate: any})
		body := `{"Messages":[{"TemplateAlias":"receipt","TemplateModel":{"total":"1.00"},"From":"a@acme.example","To":"b@example.com"}]}`
		req, _ := http.NewRequest("POST", s.URL()+"/email/batchWithTemplates", strings.NewReader(body))
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Postmark-Server-Token", s.Token())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got, want := s.AcceptedCount(), map[bool]int{false: 0, true: 1}[any]; got != want {
			t.Errorf("AnyTemplate=%v: accepted %d, want %d", any, got, want)
		}
	}
}
