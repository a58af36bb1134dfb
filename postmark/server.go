package postmark

import (
	"context"
	"net/http"
)

// Server describes the Postmark server a server token belongs to, as
// GET /server returns it. The response's ApiTokens are deliberately not
// decoded: a token never needs to leave the request header.
//
// See https://postmarkapp.com/developer/api/server-api#get-server
type Server struct {
	ID           int64
	Name         string
	Color        string
	DeliveryType string // "Live" or "Sandbox"
	ServerLink   string
	TrackOpens   bool
	TrackLinks   string
}

// GetServer returns the server the client's token belongs to
// (GET /server). postform binds its state to the ID it returns, so one
// host with two servers' tokens never shares a state.
func (c *Client) GetServer(ctx context.Context) (*Server, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "server", nil)
	if err != nil {
		return nil, err
	}
	s := new(Server)
	if _, err := c.do(req, s); err != nil {
		return nil, err
	}
	return s, nil
}
