// Package clickmerchant is a fake of Click's Merchant API (payments/SPEC.md §7,
// FISCAL.md §3): an httptest server that keeps payments and fiscal receipts
// in memory, checks every call's signed Auth header, and has switches to make
// it fail, hang, refuse or be unreachable, for tests of the Merchant API client
// and for end-to-end tests that point CLICK_API_URL at it.
//
// Routes, below the base path /v2/merchant/ (URL returns the base):
//
//	GET    payment/status/{service_id}/{payment_id}
//	       → {error_code: 0, error_note, payment_id, payment_status}
//	GET    payment/status_by_mti/{service_id}/{merchant_trans_id}/{YYYY-MM-DD}
//	GET    payment/status_by_mti/{service_id}/{merchant_trans_id}
//	       → {error_code: 0, error_note, payment_id, merchant_trans_id}; both forms
//	       of SPEC §7 (a payment with a Day matches only that date in the first form)
//	DELETE payment/reversal/{service_id}/{payment_id}
//	       → {error_code: 0, error_note, payment_id}; the payment's status becomes
//	       StatusCancelled. Only a successful payment can be reversed.
//	POST   payment/ofd_data/submit_items   {service_id, payment_id, items, received_*}
//	       → {error_code: 0, error_note}; the body is checked (below) and recorded
//	GET    payment/ofd_data/{service_id}/{payment_id}
//	       → {paymentId, qrCodeURL} once the payment has a receipt; before that,
//	       the "no receipt yet" answer chosen with SetNoReceiptAnswer
//
// Every call must carry Accept and Content-Type application/json (else 406)
// and Auth = merchant_user_id:sha1(timestamp+secret_key):timestamp for the
// configured user and secret (else 401); a service id other than the
// configured one is answered 403. The timestamp's age is not checked.
//
// Click documents no error_code values for these calls (FISCAL.md §5.9), so
// the Code* constants are this fake's own. Business refusals come as HTTP 200
// with a non-zero error_code, as Click does; a body that is not JSON of the
// documented shape (unknown fields included) is HTTP 400.
//
// submit_items is accepted only for a known payment with StatusSuccess, with
// at least one item, each with Name (1..63 characters), SPIC (17 digits),
// PackageCode (1..20 digits), Amount ≥ 1, Price, VAT ≤ Price, VATPercent and
// CommissionInfo holding exactly one of TIN (9 digits) and PINFL (14 digits),
// Price = GoodPrice × Amount when GoodPrice is sent, and received_cash +
// received_card + received_ecash = Σ (Price − Discount − Other), which must
// also equal the payment's Amount when that is set. An accepted submission
// gives the payment a receipt link on ofd.soliq.uz (see SetReceiptDelay).
package clickmerchant

import (
	"bytes"
	"context"
	"crypto/sha1" //nolint:gosec // Click's Auth header is defined with SHA-1
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// BasePath is where the fake serves the API, as Click does.
const BasePath = "/v2/merchant/"

// SPEC §7's example credentials, the defaults of a zero Config.
const (
	SpecServiceID      = 12345
	SpecMerchantUserID = "123"
	SpecSecretKey      = "TEST_SECRET_KEY"
)

// Routes, as Calls and Fault name them.
const (
	RouteStatus      = "GET payment/status"
	RouteStatusByMTI = "GET payment/status_by_mti"
	RouteReversal    = "DELETE payment/reversal"
	RouteSubmitItems = "POST payment/ofd_data/submit_items"
	RouteFiscalData  = "GET payment/ofd_data"
)

// Click's payment_status values (SPEC §7).
const (
	StatusCancelled  = -1 // any value < 0 is an error or a cancelled payment
	StatusCreated    = 0
	StatusProcessing = 1
	StatusSuccess    = 2
)

// The error_code values this fake answers with.
const (
	CodeBadRequest      = -8    // the request is malformed or a field is wrong
	CodePaymentNotFound = -5014 // no such payment (or no payment for that merchant_trans_id)
	CodeNotAllowed      = -5017 // the payment's status does not allow the call
	CodeNoReceipt       = -5020 // ofd_data: the payment has no receipt yet
	CodeRefused         = -9999 // the default of an injected FailRefuse
	codeUnauthorized    = -401
	codeForbidden       = -403
	codeNotAcceptable   = -406
	codeNoRoute         = -404
)

// Config is the merchant the fake serves; zero fields take SPEC §7's example
// values.
type Config struct {
	ServiceID      int64
	MerchantUserID string
	SecretKey      string
}

// Payment is a payment as Click knows it.
type Payment struct {
	ID              int64
	MerchantTransID string
	Day             string // YYYY-MM-DD (Tashkent) the payment was made; "" matches any date
	Status          int
	Amount          int64 // tiyin; 0 = submissions are not checked against it
	Reversed        bool  // set by a reversal
}

// Submission is an accepted submit_items body.
type Submission struct {
	ServiceID     int64  `json:"service_id"`
	PaymentID     int64  `json:"payment_id"`
	Items         []Item `json:"items"`
	ReceivedECash int64  `json:"received_ecash"`
	ReceivedCash  int64  `json:"received_cash"`
	ReceivedCard  int64  `json:"received_card"`
}

// Item is one submitted line, with every field FISCAL.md §3 lists. The
// pointers are the required fields, nil when absent.
type Item struct {
	Name           *string         `json:"Name"`
	Barcode        string          `json:"Barcode,omitempty"`
	Labels         []string        `json:"Labels,omitempty"`
	SPIC           *string         `json:"SPIC"`
	Units          *uint64         `json:"Units,omitempty"`
	PackageCode    *string         `json:"PackageCode"`
	GoodPrice      *uint64         `json:"GoodPrice,omitempty"`
	Price          *uint64         `json:"Price"`
	Amount         *uint64         `json:"Amount"`
	VAT            *uint64         `json:"VAT"`
	VATPercent     *uint8          `json:"VATPercent"`
	Discount       uint64          `json:"Discount,omitempty"`
	Other          uint64          `json:"Other,omitempty"`
	CommissionInfo *CommissionInfo `json:"CommissionInfo"`
}

// CommissionInfo names the seller a line is sold for.
type CommissionInfo struct {
	TIN   string `json:"TIN,omitempty"`
	PINFL string `json:"PINFL,omitempty"`
}

// Call is one request that reached the fake.
type Call struct {
	Method string
	Path   string // escaped, as sent
	Route  string // a Route constant, "" for an unknown path
	Body   []byte
}

// FailMode is how an injected failure answers.
type FailMode int

const (
	// Fail5xx answers HTTP Fault.Code (default 502) with a body that is not JSON.
	Fail5xx FailMode = iota + 1
	// FailTimeout never answers: the request is held until the client gives up
	// (or the fake is closed).
	FailTimeout
	// FailRefuse answers HTTP 200 with error_code Fault.Code (default
	// CodeRefused) and error_note Fault.Note.
	FailRefuse
)

// Fault is an injected failure.
type Fault struct {
	Mode  FailMode
	Route string // a Route constant; "" = any route
	Code  int
	Note  string
}

// NoReceiptAnswer is how ofd_data answers for a payment without a receipt;
// Click does not document it (FISCAL.md §5.9), so clients must take both.
type NoReceiptAnswer int

const (
	// NoReceiptError answers {error_code: CodeNoReceipt, error_note}.
	NoReceiptError NoReceiptAnswer = iota
	// NoReceiptEmptyLink answers {paymentId, qrCodeURL: ""}.
	NoReceiptEmptyLink
)

// Option configures a Server.
type Option func(*Server)

// WithClock stamps receipt links with now() instead of the wall clock.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

type receipt struct {
	url       string
	hiddenFor int // ofd_data reads still answered "no receipt yet"
}

type failure struct {
	Fault
	left int
}

// Server is the fake Merchant API. Its methods are safe for concurrent use.
type Server struct {
	cfg Config

	mu       sync.Mutex
	srv      *httptest.Server
	addr     string
	closed   bool
	closing  chan struct{} // closed by Close: releases held requests
	now      func() time.Time
	payments map[int64]*Payment
	receipts map[int64]*receipt
	accepted map[int64][]Submission
	seq      int

	failures     []*failure
	fault        func(w http.ResponseWriter, r *http.Request) bool
	receiptDelay int
	noReceipt    NoReceiptAnswer

	calls []Call
}

// New starts a fake on a local port. Stop it with Close.
func New(cfg Config, opts ...Option) *Server {
	if cfg.ServiceID == 0 {
		cfg.ServiceID = SpecServiceID
	}
	if cfg.MerchantUserID == "" {
		cfg.MerchantUserID = SpecMerchantUserID
	}
	if cfg.SecretKey == "" {
		cfg.SecretKey = SpecSecretKey
	}
	s := &Server{
		cfg:      cfg,
		closing:  make(chan struct{}),
		now:      time.Now,
		payments: map[int64]*Payment{},
		receipts: map[int64]*receipt{},
		accepted: map[int64][]Submission{},
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(s.handler())
	s.addr = s.srv.Listener.Addr().String()
	return s
}

// URL is the base URL to configure the client with (CLICK_API_URL), ending in
// /v2/merchant/; it stays the same across Close and Restart.
func (s *Server) URL() string { return "http://" + s.addr + BasePath }

// Config is the merchant the fake checks calls against.
func (s *Server) Config() Config { return s.cfg }

// Close stops listening: connections are refused until Restart. Held
// requests are released; payments and receipts are kept. Closing twice is fine.
func (s *Server) Close() {
	s.mu.Lock()
	srv, closing, already := s.srv, s.closing, s.closed
	s.closed = true
	s.mu.Unlock()
	if !already {
		// Connections first, so a held request ends with a broken connection
		// (as when Click goes away), not with an empty answer.
		srv.CloseClientConnections()
		close(closing)
		srv.Close()
	}
}

// Restart listens again on the same address after Close.
func (s *Server) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		return
	}
	var l net.Listener
	var err error
	for range 50 { // the port may take a moment to be free again
		if l, err = (&net.ListenConfig{}).Listen(context.Background(), "tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		panic(fmt.Sprintf("fake click merchant api: listen again on %s: %v", s.addr, err))
	}
	srv := httptest.NewUnstartedServer(s.handler())
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	s.srv, s.closed, s.closing = srv, false, make(chan struct{})
}

// SetPayment adds or replaces a payment.
func (s *Server) SetPayment(p Payment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored := p
	s.payments[p.ID] = &stored
}

// Payment returns the stored payment, for assertions.
func (s *Server) Payment(id int64) (Payment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[id]
	if !ok {
		return Payment{}, false
	}
	return *p, true
}

// SetQRCodeURL gives payment id a receipt link at once, as when Click prints
// a receipt by itself, or to serve a link that is not on ofd.soliq.uz.
func (s *Server) SetQRCodeURL(id int64, url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receipts[id] = &receipt{url: url}
}

// SetReceiptDelay makes the receipt of each submission accepted from now on
// invisible to its first n ofd_data reads ("no receipt yet"), as when the
// tax system has not answered Click yet; it shows from read n+1 on.
func (s *Server) SetReceiptDelay(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receiptDelay = n
}

// SetNoReceiptAnswer chooses how ofd_data answers before a receipt exists.
func (s *Server) SetNoReceiptAnswer(a NoReceiptAnswer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noReceipt = a
}

// FailNext makes the next n calls to f.Route (any route when "") fail as
// f.Mode says, then serves normally. Failures queue up in the order given.
func (s *Server) FailNext(n int, f Fault) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, &failure{Fault: f, left: n})
}

// SetFault installs fn, called for every request after the injected
// failures and before the checks; when it returns true it has answered. nil
// removes it. For answers the other switches do not produce.
func (s *Server) SetFault(fn func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = fn
}

// Calls returns every request that reached the fake, failed ones included,
// in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	copy(out, s.calls)
	return out
}

// CallCount is how many requests reached route.
func (s *Server) CallCount(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Route == route {
			n++
		}
	}
	return n
}

// Submissions returns the accepted submit_items bodies for payment id, in
// order: one entry per accepted call, so a test can assert "submitted once".
func (s *Server) Submissions(id int64) []Submission {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Submission, len(s.accepted[id]))
	copy(out, s.accepted[id])
	return out
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, body []byte)

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, name string, h handlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+BasePath+path, s.wrap(name, h))
	}
	route("GET payment/status/{service_id}/{payment_id}", RouteStatus, s.status)
	route("GET payment/status_by_mti/{service_id}/{mti}/{date}", RouteStatusByMTI, s.statusByMTI)
	route("GET payment/status_by_mti/{service_id}/{mti}", RouteStatusByMTI, s.statusByMTI)
	route("DELETE payment/reversal/{service_id}/{payment_id}", RouteReversal, s.reversal)
	route("POST payment/ofd_data/submit_items", RouteSubmitItems, s.submitItems)
	route("GET payment/ofd_data/{service_id}/{payment_id}", RouteFiscalData, s.fiscalData)
	mux.Handle("/", s.wrap("", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		answer(w, http.StatusNotFound, codeNoRoute, "no such route")
	}))
	return mux
}

// wrap records the call, applies the failure switches and the header checks,
// then runs h.
func (s *Server) wrap(route string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		s.mu.Lock()
		s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.EscapedPath(), Route: route, Body: body})
		f := s.takeFailure(route)
		fault, closing := s.fault, s.closing
		s.mu.Unlock()

		if f != nil {
			switch f.Mode {
			case FailTimeout:
				select {
				case <-r.Context().Done():
				case <-closing:
				}
				return
			case FailRefuse:
				answer(w, http.StatusOK, orDefault(f.Code, CodeRefused), f.Note)
				return
			default:
				status := orDefault(f.Code, http.StatusBadGateway)
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				_, _ = fmt.Fprintf(w, "<html>%d %s (injected)</html>", status, http.StatusText(status))
				return
			}
		}
		if fault != nil && fault(w, r) {
			return
		}
		if r.Header.Get("Accept") != "application/json" || r.Header.Get("Content-Type") != "application/json" {
			answer(w, http.StatusNotAcceptable, codeNotAcceptable, "Accept and Content-Type must be application/json")
			return
		}
		if !s.authorized(r.Header.Get("Auth")) {
			answer(w, http.StatusUnauthorized, codeUnauthorized, "bad Auth header")
			return
		}
		if sid := r.PathValue("service_id"); sid != "" && sid != strconv.FormatInt(s.cfg.ServiceID, 10) {
			answer(w, http.StatusForbidden, codeForbidden, "service_id is not this merchant's")
			return
		}
		h(w, r, body)
	})
}

// takeFailure consumes one injected failure for route; callers hold s.mu.
func (s *Server) takeFailure(route string) *failure {
	for i, f := range s.failures {
		if f.Route != "" && f.Route != route {
			continue
		}
		f.left--
		if f.left == 0 {
			s.failures = append(s.failures[:i], s.failures[i+1:]...)
		}
		return f
	}
	return nil
}

// authorized checks merchant_user_id:sha1(timestamp+secret_key):timestamp.
func (s *Server) authorized(header string) bool {
	parts := strings.Split(header, ":")
	if len(parts) != 3 || parts[0] != s.cfg.MerchantUserID || !allDigits(parts[2], 1, 20) {
		return false
	}
	sum := sha1.Sum([]byte(parts[2] + s.cfg.SecretKey)) //nolint:gosec // Click's Auth header is defined with SHA-1
	want := hex.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(parts[1]), []byte(want)) == 1
}

func (s *Server) status(w http.ResponseWriter, r *http.Request, _ []byte) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	p, found := s.payments[id]
	var status int
	if found {
		status = p.Status
	}
	s.mu.Unlock()
	if !found {
		answer(w, http.StatusOK, CodePaymentNotFound, "Payment not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"error_code": 0, "error_note": "Success", "payment_id": id, "payment_status": status})
}

func (s *Server) statusByMTI(w http.ResponseWriter, r *http.Request, _ []byte) {
	mti, date := r.PathValue("mti"), r.PathValue("date")
	if date != "" {
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			answer(w, http.StatusBadRequest, CodeBadRequest, "date must be YYYY-MM-DD")
			return
		}
	}
	s.mu.Lock()
	var id int64
	for _, p := range s.payments {
		if p.MerchantTransID == mti && (date == "" || p.Day == "" || p.Day == date) && (id == 0 || p.ID > id) {
			id = p.ID // the latest payment when several match
		}
	}
	s.mu.Unlock()
	if id == 0 {
		answer(w, http.StatusOK, CodePaymentNotFound, "Payment not found")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"error_code": 0, "error_note": "Success", "payment_id": id, "merchant_trans_id": mti})
}

func (s *Server) reversal(w http.ResponseWriter, r *http.Request, _ []byte) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	p, found := s.payments[id]
	allowed := found && p.Status == StatusSuccess && !p.Reversed
	if allowed {
		p.Status, p.Reversed = StatusCancelled, true
	}
	s.mu.Unlock()
	switch {
	case !found:
		answer(w, http.StatusOK, CodePaymentNotFound, "Payment not found")
	case !allowed:
		answer(w, http.StatusOK, CodeNotAllowed, "Payment cannot be reversed")
	default:
		writeJSON(w, http.StatusOK, map[string]any{"error_code": 0, "error_note": "Success", "payment_id": id})
	}
}

func (s *Server) submitItems(w http.ResponseWriter, _ *http.Request, body []byte) {
	var sub Submission
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sub); err != nil || dec.More() {
		answer(w, http.StatusBadRequest, CodeBadRequest, "body is not a submit_items object")
		return
	}
	if sub.ServiceID != s.cfg.ServiceID {
		answer(w, http.StatusForbidden, codeForbidden, "service_id is not this merchant's")
		return
	}
	paid, problem := checkItems(sub)

	s.mu.Lock()
	defer s.mu.Unlock()
	p, found := s.payments[sub.PaymentID]
	switch {
	case !found:
		answer(w, http.StatusOK, CodePaymentNotFound, "Payment not found")
		return
	case p.Status != StatusSuccess:
		answer(w, http.StatusOK, CodeNotAllowed, "Payment is not successful")
		return
	case problem != "":
		answer(w, http.StatusOK, CodeBadRequest, problem)
		return
	case p.Amount != 0 && paid != p.Amount:
		answer(w, http.StatusOK, CodeBadRequest, fmt.Sprintf("received %d tiyin, the payment is %d", paid, p.Amount))
		return
	}
	s.accepted[sub.PaymentID] = append(s.accepted[sub.PaymentID], sub)
	if _, has := s.receipts[sub.PaymentID]; !has {
		s.seq++
		at := s.now().In(time.FixedZone("UZT", 5*60*60)).Format("20060102150405")
		s.receipts[sub.PaymentID] = &receipt{
			url:       fmt.Sprintf("https://ofd.soliq.uz/epi?t=EZ000000000030&r=%d&c=%s&s=%012d", s.seq, at, 800000000000+int64(s.seq)),
			hiddenFor: s.receiptDelay,
		}
	}
	answer(w, http.StatusOK, 0, "Success")
}

// checkItems returns what the body says was received, and what is wrong with
// it ("" when nothing).
func checkItems(sub Submission) (int64, string) {
	if len(sub.Items) == 0 {
		return 0, "items must not be empty"
	}
	var lines uint64
	for i, it := range sub.Items {
		bad := func(what string) (int64, string) { return 0, fmt.Sprintf("items[%d]: %s", i, what) }
		switch {
		case it.Name == nil || *it.Name == "" || utf8.RuneCountInString(*it.Name) > 63:
			return bad("Name must be 1..63 characters")
		case it.SPIC == nil || !allDigits(*it.SPIC, 17, 17):
			return bad("SPIC must be 17 digits")
		case it.PackageCode == nil || !allDigits(*it.PackageCode, 1, 20):
			return bad("PackageCode must be 1..20 digits")
		case it.Amount == nil || *it.Amount < 1:
			return bad("Amount must be at least 1")
		case it.Price == nil:
			return bad("Price is required")
		case it.GoodPrice != nil && !product(*it.GoodPrice, *it.Amount, *it.Price):
			return bad("Price must be GoodPrice × Amount")
		case it.VAT == nil || *it.VAT > *it.Price:
			return bad("VAT is required and at most Price")
		case it.VATPercent == nil:
			return bad("VATPercent is required")
		case it.CommissionInfo == nil:
			return bad("CommissionInfo is required")
		case (it.CommissionInfo.TIN == "") == (it.CommissionInfo.PINFL == ""):
			return bad("CommissionInfo needs exactly one of TIN and PINFL")
		case it.CommissionInfo.TIN != "" && !allDigits(it.CommissionInfo.TIN, 9, 9):
			return bad("CommissionInfo.TIN must be 9 digits")
		case it.CommissionInfo.PINFL != "" && !allDigits(it.CommissionInfo.PINFL, 14, 14):
			return bad("CommissionInfo.PINFL must be 14 digits")
		case it.Discount > *it.Price || it.Other > *it.Price-it.Discount:
			return bad("Discount and Other exceed Price")
		}
		net := *it.Price - it.Discount - it.Other
		if net > math.MaxInt64-lines {
			return 0, "the items come to more than an int64 of tiyin"
		}
		lines += net
	}
	if sub.ReceivedCash < 0 || sub.ReceivedCard < 0 || sub.ReceivedECash < 0 {
		return 0, "received amounts must not be negative"
	}
	received := sub.ReceivedCash + sub.ReceivedCard + sub.ReceivedECash
	if received < 0 || uint64(received) != lines { // received < 0: the sum overflowed
		return 0, fmt.Sprintf("received %d tiyin, the items come to %d", received, lines)
	}
	return received, ""
}

func (s *Server) fiscalData(w http.ResponseWriter, r *http.Request, _ []byte) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	_, known := s.payments[id]
	rc, has := s.receipts[id]
	url := ""
	if has {
		if rc.hiddenFor > 0 {
			rc.hiddenFor--
		} else {
			url = rc.url
		}
	}
	mode := s.noReceipt
	s.mu.Unlock()
	switch {
	case url != "":
		writeJSON(w, http.StatusOK, map[string]any{"paymentId": id, "qrCodeURL": url})
	case !known && !has:
		answer(w, http.StatusOK, CodePaymentNotFound, "Payment not found")
	case mode == NoReceiptEmptyLink:
		writeJSON(w, http.StatusOK, map[string]any{"paymentId": id, "qrCodeURL": ""})
	default:
		answer(w, http.StatusOK, CodeNoReceipt, "Receipt not found")
	}
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("payment_id"), 10, 64)
	if err != nil || id <= 0 {
		answer(w, http.StatusBadRequest, CodeBadRequest, "payment_id must be a positive integer")
		return 0, false
	}
	return id, true
}

func answer(w http.ResponseWriter, status, code int, note string) {
	writeJSON(w, status, map[string]any{"error_code": code, "error_note": note})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func allDigits(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// product reports whether a × b = want, without overflowing.
func product(a, b, want uint64) bool {
	hi, lo := bits.Mul64(a, b)
	return hi == 0 && lo == want
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
