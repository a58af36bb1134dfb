package postmark

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
)

// APIError is a non-2xx answer. StatusCode is the HTTP status. ErrorCode
// and Message come from Postmark's JSON envelope ({"ErrorCode", "Message"});
// both are zero when the body was something else, such as the HTML page of
// a proxy or firewall (ErrorCode may then still come from the
// X-PM-ApiErrorCode header). Method and Path name the request; Path never
// includes the query. Postmark's ErrorCode numbers collide with HTTP
// status numbers: compare each with its own kind.
//
// See https://postmarkapp.com/developer/api/overview#error-codes
type APIError struct {
	StatusCode int
	ErrorCode  int
	Message    string
	Method     string
	Path       string
}

// Error reads like "POST /email/batch: 422 Unprocessable Entity (ErrorCode
// 300): Invalid 'To' address".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteByte(' ')
		b.WriteString(text)
	}
	if e.ErrorCode != 0 {
		fmt.Fprintf(&b, " (ErrorCode %d)", e.ErrorCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// TransportError is a request that got no HTTP response: the connection
// could not be made, broke, or timed out, or the context ended. Written
// reports whether the whole request had been written to the connection
// before the failure (observed with httptrace, not guessed from the error
// text); when it is false the server cannot have accepted the request.
// When the context was done, Err is the context's error.
type TransportError struct {
	Method  string
	Path    string
	Written bool
	Err     error
}

func (e *TransportError) Error() string {
	state := "request not sent"
	if e.Written {
		state = "request sent, no response"
	}
	return e.Method + " " + e.Path + ": " + state + ": " + e.Err.Error()
}

// Unwrap returns the underlying network or context error.
func (e *TransportError) Unwrap() error { return e.Err }

// ResponseError is a 2xx answer that could not be used: its body broke
// off, was not the expected JSON, or did not match the request (a batch
// answer with another number of items). The request may have been
// accepted.
type ResponseError struct {
	Method     string
	Path       string
	StatusCode int
	Err        error
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: unusable response: %v", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode), e.Err)
}

// Unwrap returns the decoding or reading error.
func (e *ResponseError) Unwrap() error { return e.Err }

// requestError is a failure before anything was sent: an argument that
// cannot be encoded or cannot form a URL.
type requestError struct {
	method, path string
	err          error
}

func (e *requestError) Error() string {
	if e.method == "" {
		return "postmark: " + e.err.Error()
	}
	return e.method + " " + e.path + ": " + e.err.Error()
}

func (e *requestError) Unwrap() error { return e.err }

// Class says what an error proves about acceptance of a request.
type Class int

const (
	// ClassAccepted: no error; Postmark answered 2xx with a usable body.
	// (Per-item failures of a batch are in SendResult.ErrorCode.)
	ClassAccepted Class = iota
	// ClassRejected: provably not accepted. Resending the same request
	// cannot create a duplicate.
	ClassRejected
	// ClassAmbiguous: may have been accepted. Reconcile (search by
	// metadata) before any resend.
	ClassAmbiguous
)

func (c Class) String() string {
	switch c {
	case ClassAccepted:
		return "accepted"
	case ClassRejected:
		return "rejected"
	case ClassAmbiguous:
		return "ambiguous"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Classify reports what err proves about acceptance of the request that
// returned it.
//
// nil is ClassAccepted. ClassRejected covers answers and failures that
// prove nothing was accepted: HTTP 400, 401, 404, 413, 415, 422 (any
// ErrorCode) and 429; 503 with ErrorCode 100 (maintenance); and every
// failure before the whole request was written (refused connection, DNS
// or dial error, TLS failure, context done before writing, invalid
// arguments). Everything else is ClassAmbiguous: a timeout, reset or EOF
// after the request was written; 500, 502, 504, 503 without ErrorCode 100,
// 403 or any other status; and a 2xx body that could not be used. Errors
// that did not come from this package are ClassAmbiguous too.
func Classify(err error) Class {
	if err == nil {
		return ClassAccepted
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch apiErr.StatusCode {
		case http.StatusBadRequest,
			http.StatusUnauthorized,
			http.StatusNotFound,
			http.StatusRequestEntityTooLarge,
			http.StatusUnsupportedMediaType,
			http.StatusUnprocessableEntity,
			http.StatusTooManyRequests:
			return ClassRejected
		case http.StatusServiceUnavailable:
			if apiErr.ErrorCode == 100 {
				return ClassRejected
			}
		}
		return ClassAmbiguous
	}
	var tErr *TransportError
	if errors.As(err, &tErr) {
		if tErr.Written {
			return ClassAmbiguous
		}
		return ClassRejected
	}
	var rErr *requestError
	if errors.As(err, &rErr) {
		return ClassRejected
	}
	return ClassAmbiguous
}

// IsAmbiguous reports whether Classify(err) is ClassAmbiguous.
func IsAmbiguous(err error) bool { return Classify(err) == ClassAmbiguous }

// IsRetryable reports whether err is ClassRejected and the same request is
// worth sending again later: 429, 503 with ErrorCode 100, and transport
// failures before the request was written that look transient (refused or
// reset connection, dial or DNS timeout, deadline). Cancellation,
// certificate failures, unknown hosts and every other rejection are not
// retryable; ambiguous errors never are, since they need reconciling
// first.
func IsRetryable(err error) bool {
	if Classify(err) != ClassRejected {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode == http.StatusTooManyRequests ||
			(apiErr.StatusCode == http.StatusServiceUnavailable && apiErr.ErrorCode == 100)
	}
	var tErr *TransportError
	if !errors.As(err, &tErr) {
		return false
	}
	return transientBeforeWrite(tErr.Err)
}

func transientBeforeWrite(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &invalid) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return !dnsErr.IsNotFound
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		if netErr.Timeout() {
			return true
		}
		var opErr *net.OpError
		return errors.As(err, &opErr) && opErr.Op == "dial"
	}
	return false
}

// IsAuth reports whether err is a 401: the token is missing, wrong, or of
// the wrong kind. No request with this client will succeed.
func IsAuth(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnauthorized
}

func parseInt(s string) (int, error) {
	return strconv.Atoi(strings.TrimSpace(s))
}
