package postmark

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestGetServer(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /server", func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("X-Postmark-Server-Token"); got != testToken {
			t.Errorf("token header = %q", got)
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ID":1234567,"Name":"Production","ApiTokens":[%q],"Color":"red","DeliveryType":"Live",
			"ServerLink":"https://account.postmarkapp.com/servers/1234567/streams","TrackOpens":true,"TrackLinks":"HtmlOnly",
			"InboundHash":"abc","SmtpApiActivated":true}`, testToken)
	})
	s, err := c.GetServer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Server{ID: 1234567, Name: "Production", Color: "red", DeliveryType: "Live",
		ServerLink: "https://account.postmarkapp.com/servers/1234567/streams", TrackOpens: true, TrackLinks: "HtmlOnly"}
	if *s != want {
		t.Errorf("GetServer = %+v, want %+v", *s, want)
	}
	if strings.Contains(fmt.Sprintf("%+v %#v", *s, *s), testToken) {
		t.Error("the decoded server holds the token")
	}
}

func TestGetServerUnauthorized(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /server", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"ErrorCode":10,"Message":"Request does not contain a valid Server token."}`)
	})
	_, err := c.GetServer(context.Background())
	apiErr, ok := err.(*APIError)
	if !ok || apiErr.StatusCode != http.StatusUnauthorized || apiErr.ErrorCode != 10 {
		t.Fatalf("err = %#v, want a 401 APIError with ErrorCode 10", err)
	}
}
