package postmarktest

import (
	"context"
	"net/http"
	"testing"

	"github.com/postform/postform/postmark"
)

func TestGetServerIDFollowsToken(t *testing.T) {
	t.Parallel()
	a := NewServer(t, Options{Token: "token-a"})
	a2 := NewServer(t, Options{Token: "token-a"})
	b := NewServer(t, Options{Token: "token-b"})
	named := NewServer(t, Options{Token: "token-c", ServerID: 42, ServerName: "Staging"})

	get := func(s *Server) postmark.Server {
		t.Helper()
		c, err := postmark.NewClient(s.Token(), postmark.WithBaseURL(s.URL()))
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.GetServer(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return *info
	}
	ia, ia2, ib, ic := get(a), get(a2), get(b), get(named)
	if ia.ID == 0 || ia.ID != ia2.ID || ia.Name != ia2.Name {
		t.Errorf("one token, two processes: %+v and %+v, want the same server", ia, ia2)
	}
	if ib.ID == ia.ID {
		t.Errorf("two tokens share server ID %d", ia.ID)
	}
	if ic.ID != 42 || ic.Name != "Staging" {
		t.Errorf("explicit server = %+v, want ID 42 named Staging", ic)
	}
	if r := callWith(t, a, "GET", "/server", nil, func(h http.Header) { h.Set("X-Postmark-Server-Token", "token-b") }); r.status != 401 {
		t.Errorf("GET /server with another token: status %d, want 401", r.status)
	}
}

func TestServersRouteByToken(t *testing.T) {
	t.Parallel()
	ss, err := NewServers([]Options{{Token: "staging"}, {Token: "production"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	ctx := context.Background()
	client := func(token string) *postmark.Client {
		c, err := postmark.NewClient(token, postmark.WithBaseURL(ss.URL()))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	staging, production := client("staging"), client("production")
	si, err := staging.GetServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pi, err := production.GetServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if si.ID == pi.ID {
		t.Fatalf("both tokens reach server %d", si.ID)
	}
	m := postmark.Message{From: "a@example.com", To: "b@example.com", Subject: "s", TextBody: "t"}
	for range 3 {
		if _, err := production.SendEmail(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := staging.SendEmail(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := [2]int{ss.List()[0].AcceptedCount(), ss.List()[1].AcceptedCount()}; got != [2]int{1, 3} {
		t.Errorf("accepted (staging, production) = %v, want [1 3]", got)
	}
	if _, err := client("nobody").GetServer(ctx); err == nil {
		t.Error("an unknown token reached a server")
	}
	if _, err := NewServers([]Options{{Token: "x"}, {Token: "X"}}); err == nil {
		t.Error("two servers with one token were accepted")
	}
}
