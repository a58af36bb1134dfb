package postmarktest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/postform/postform/postmark/postmarktest"
)

// A simulator on a free loopback port, sent one message by hand.
func Example() {
	sim := postmarktest.New(postmarktest.Options{Seed: 1})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	defer sim.Close()

	body := `{"From":"news@acme.example","To":"ann@example.com","Subject":"Hi","TextBody":"Hello",` +
		`"Metadata":{"pf_id":"digest-ann"}}`
	req, _ := http.NewRequest("POST", sim.URL()+"/email", strings.NewReader(body))
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Postmark-Server-Token", sim.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var res struct {
		ErrorCode int
		Message   string
		MessageID string
	}
	_ = json.NewDecoder(resp.Body).Decode(&res)

	acc := sim.Accepted()
	fmt.Println(resp.StatusCode, res.ErrorCode, res.Message)
	fmt.Println(len(acc), acc[0].MessageID == res.MessageID, acc[0].Metadata["pf_id"])
	// Output:
	// 200 0 OK
	// 1 true digest-ann
}
