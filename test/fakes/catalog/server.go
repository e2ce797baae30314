// Package catalog is a fake of the upstream product microservice: an
// httptest server that speaks the contract of DESIGN.md ("Upstream catalog
// contract") from memory, with switches to make it fail, slow or unreachable.
//
// It is for tests of the catalog client and for end-to-end tests that boot the
// gateway with CATALOG_URL pointing here. It checks no identity: who may do
// what is the gateway's business; the headers it receives are only recorded
// (LastHeaders) so tests can see that they were forwarded.
//
// Routes and answers:
//
//	GET    /products               ?q, category, seller_id, page (≥1), page_size (1..100),
//	                               include_inactive=true, inactive_of_seller=<id>
//	                               → 200 {items, page, page_size, total}; newest first
//	GET    /products/{id}          → 200 product (inactive too); deleted/unknown → 404
//	POST   /products               {name, description, category, price, stock, active?, seller_id}
//	                               → 201 product; invalid → 422 validation_failed with errors
//	PUT    /products/{id}          same body (seller_id ignored) → 200 product; 404; 422
//	DELETE /products/{id}          → 204 (soft delete); 404
//	POST   /products/lookup        {ids} → 200 {items}: the non-deleted ones, unknown skipped
//	POST   /reservations           {order_id, items: [{product_id, quantity}]} → 201, all or nothing;
//	                               short → 409 {code: insufficient_stock, product_id};
//	                               unknown/deleted product → 404; inactive → 422;
//	                               order already holding one → 409 conflict
//	DELETE /reservations/{order_id} → 204, whether or not there was one
//
// Errors are application/problem+json: {type, title, status, code, detail, errors?, product_id?}.
package catalog

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/ultramarket/gateway/adapters/i18n"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/product"
)

// Product is a product as the fake stores it and as it travels (the public
// `product` shape).
type Product struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Category    string    `json:"category"`
	Price       int64     `json:"price"`
	Currency    string    `json:"currency"`
	Stock       int64     `json:"stock"`
	SellerID    string    `json:"seller_id"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// The fiscal identity; nil codes are null, and a product seeded without
	// vat_percent is served without it (the client reads 12).
	IKPUCode    *string `json:"ikpu_code,omitempty"`
	PackageCode *string `json:"package_code,omitempty"`
	UnitCode    *int64  `json:"unit_code,omitempty"`
	VATPercent  *int    `json:"vat_percent,omitempty"`

	deleted bool
}

// Option configures a Server.
type Option func(*Server)

// WithClock makes the server stamp products with now() instead of the wall clock.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is the fake catalog. Its methods are safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	srv      *httptest.Server
	addr     string
	closed   bool
	now      func() time.Time
	products map[string]*Product
	// reservations: order id → product id → quantity.
	reservations map[string]map[string]int64

	down     bool
	delay    time.Duration
	failNext int
	fault    func(w http.ResponseWriter, r *http.Request) bool

	requests int
	calls    map[string]int
	headers  http.Header
}

// New starts a fake catalog on a local port. Stop it with Close.
func New(opts ...Option) *Server {
	s := &Server{
		now:          func() time.Time { return time.Now().UTC() },
		products:     map[string]*Product{},
		reservations: map[string]map[string]int64{},
		calls:        map[string]int{},
		headers:      http.Header{},
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(s.handler())
	s.addr = s.srv.Listener.Addr().String()
	return s
}

// URL is the base URL to configure the client with (CATALOG_URL); it stays
// the same across Close and Restart.
func (s *Server) URL() string { return "http://" + s.addr }

// Close stops listening: connections are refused until Restart. Products and
// reservations are kept. Closing twice is fine.
func (s *Server) Close() {
	s.mu.Lock()
	srv := s.srv
	already := s.closed
	s.closed = true
	s.mu.Unlock()
	if !already {
		srv.CloseClientConnections()
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
		panic(fmt.Sprintf("fake catalog: listen again on %s: %v", s.addr, err))
	}
	srv := httptest.NewUnstartedServer(s.handler())
	_ = srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	s.srv, s.closed = srv, false
}

// SetDown makes every request answer 500 (true) or be served normally (false).
func (s *Server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetDelay makes every request wait d before it is answered (0: no wait). A
// request whose client gives up stops waiting.
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// FailNext makes the next n requests answer 500, then serves normally.
func (s *Server) FailNext(n int) { s.mu.Lock(); s.failNext = n; s.mu.Unlock() }

// SetFault installs fn, called for every request after the delay and the
// down/fail switches; when it returns true it has answered and the request
// goes no further. nil removes it. For answers the contract does not produce
// (a 403, a malformed body, an oversized one).
func (s *Server) SetFault(fn func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	s.fault = fn
	s.mu.Unlock()
}

// Requests is how many requests reached the server, failed ones included.
func (s *Server) Requests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests }

// Calls is how many requests reached route, written as its pattern:
// "GET /products/{id}", "POST /reservations", ...
func (s *Server) Calls(route string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls[route] }

// ResetCounters zeroes Requests and Calls.
func (s *Server) ResetCounters() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.calls = 0, map[string]int{}
}

// LastHeaders returns the headers of the latest request.
func (s *Server) LastHeaders() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers.Clone()
}

// Seed stores p as is (an empty ID gets a new one; times default to now,
// currency to UZS) and returns what was stored, for tests that need products
// without going through the gateway.
func (s *Server) Seed(p Product) Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == "" {
		p.ID = uuid.NewString()
	}
	p.ID, p.SellerID = strings.ToLower(p.ID), strings.ToLower(p.SellerID)
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.now().UTC()
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	if p.Currency == "" {
		p.Currency = "UZS"
	}
	stored := p
	s.products[p.ID] = &stored
	return p
}

// Product returns the stored product (deleted ones too) for assertions.
func (s *Server) Product(id string) (Product, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.products[id]
	if !ok {
		return Product{}, false
	}
	return *p, true
}

// Reservation returns what order id holds (product id → quantity), nil if nothing.
func (s *Server) Reservation(orderID string) map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reservations[orderID]
	if !ok {
		return nil
	}
	out := make(map[string]int64, len(r))
	for k, v := range r {
		out[k] = v
	}
	return out
}

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.wrap(pattern, h)) }
	route("GET /products", s.list)
	route("GET /products/{id}", s.get)
	route("POST /products", s.create)
	route("PUT /products/{id}", s.replace)
	route("DELETE /products/{id}", s.delete)
	route("POST /products/lookup", s.lookup)
	route("POST /reservations", s.reserve)
	route("DELETE /reservations/{order_id}", s.release)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		s.headers = r.Header.Clone()
		s.mu.Unlock()
		problem(w, http.StatusNotFound, "not_found", "no such route")
	})
	return mux
}

// wrap counts the request and applies the fault switches before h.
func (s *Server) wrap(pattern string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests++
		s.calls[pattern]++
		s.headers = r.Header.Clone()
		delay := s.delay
		s.mu.Unlock()

		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		s.mu.Lock()
		fail := s.down || s.failNext > 0
		if s.failNext > 0 {
			s.failNext--
		}
		fault := s.fault
		s.mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "fake catalog: internal error at db.go:42 (injected)")
			return
		}
		if fault != nil && fault(w, r) {
			return
		}
		h(w, r)
	})
}

type listAnswer struct {
	Items    []Product `json:"items"`
	Page     int       `json:"page"`
	PageSize int       `json:"page_size"`
	Total    int       `json:"total"`
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, size := 1, 20
	verr := &domain.ValidationError{}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			verr.Add("page", "must be an integer ≥ 1")
		}
		page = n
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			verr.Add("page_size", "must be an integer 1..100")
		}
		size = n
	}
	if err := verr.OrNil(); err != nil {
		validationProblem(w, verr)
		return
	}
	text := strings.ToLower(strings.TrimSpace(q.Get("q")))
	category := strings.TrimSpace(q.Get("category"))
	seller := strings.ToLower(q.Get("seller_id"))
	all := q.Get("include_inactive") == "true"
	ofSeller := strings.ToLower(q.Get("inactive_of_seller"))

	s.mu.Lock()
	var match []Product
	for _, p := range s.products {
		switch {
		case p.deleted,
			text != "" && !strings.Contains(strings.ToLower(p.Name), text) &&
				!strings.Contains(strings.ToLower(p.Description), text),
			category != "" && !strings.EqualFold(p.Category, category),
			seller != "" && p.SellerID != seller,
			!p.Active && !all && (ofSeller == "" || p.SellerID != ofSeller):
			continue
		}
		match = append(match, *p)
	}
	s.mu.Unlock()

	slices.SortFunc(match, func(a, b Product) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	out := listAnswer{Items: []Product{}, Page: page, PageSize: size, Total: len(match)}
	if from := (page - 1) * size; from < len(match) {
		out.Items = match[from:min(from+size, len(match))]
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p, ok := s.live(r.PathValue("id"))
	var out Product
	if ok {
		out = *p
	}
	s.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, "not_found", "product not found")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// live returns a non-deleted product; callers hold s.mu.
func (s *Server) live(id string) (*Product, bool) {
	p, ok := s.products[strings.ToLower(id)]
	if !ok || p.deleted {
		return nil, false
	}
	return p, true
}

type draftBody struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Price       int64  `json:"price"`
	Stock       int64  `json:"stock"`
	Active      *bool  `json:"active"`
	SellerID    string `json:"seller_id"`

	IKPUCode    *string `json:"ikpu_code"`
	PackageCode *string `json:"package_code"`
	UnitCode    *int64  `json:"unit_code"`
	VATPercent  *int    `json:"vat_percent"`
}

func (b draftBody) draft() product.Draft {
	active := b.Active == nil || *b.Active
	return product.Draft{Name: b.Name, Description: b.Description, Category: b.Category, SellerID: b.SellerID,
		Price: b.Price, Stock: b.Stock, Active: active,
		Fiscal: fiscal.IdentityDraft{IKPUCode: b.IKPUCode, PackageCode: b.PackageCode, UnitCode: b.UnitCode,
			VATPercent: b.VATPercent}}
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var body draftBody
	if !decode(w, r, &body) {
		return
	}
	s.mu.Lock()
	now := s.now().UTC()
	s.mu.Unlock()
	d := body.draft()
	seller, serr := uuid.Parse(body.SellerID)
	if serr == nil {
		d.SellerID = seller.String()
	}
	p, err := product.New(uuid.NewString(), d, now)
	if serr != nil {
		var verr *domain.ValidationError
		if !errors.As(err, &verr) {
			verr = &domain.ValidationError{}
		}
		err = verr.Add("seller_id", "must be a UUID")
	}
	if err != nil {
		validationProblem(w, err)
		return
	}
	stored := fromDomain(p)
	s.mu.Lock()
	s.products[stored.ID] = &stored
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, stored)
}

func (s *Server) replace(w http.ResponseWriter, r *http.Request) {
	var body draftBody
	if !decode(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.live(r.PathValue("id"))
	if !ok {
		problem(w, http.StatusNotFound, "not_found", "product not found")
		return
	}
	p := toDomain(*cur)
	if err := p.Replace(body.draft(), s.now().UTC()); err != nil {
		validationProblem(w, err)
		return
	}
	*cur = fromDomain(p)
	writeJSON(w, http.StatusOK, *cur)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.live(r.PathValue("id"))
	if !ok {
		problem(w, http.StatusNotFound, "not_found", "product not found")
		return
	}
	p.deleted = true
	p.UpdatedAt = s.now().UTC()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) {
	var body struct {
		IDs []string `json:"ids"`
	}
	if !decode(w, r, &body) {
		return
	}
	s.mu.Lock()
	items := []Product{}
	seen := map[string]bool{}
	for _, id := range body.IDs {
		if p, ok := s.live(id); ok && !seen[p.ID] {
			seen[p.ID] = true
			items = append(items, *p)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

type reservationBody struct {
	OrderID string `json:"order_id"`
	Items   []struct {
		ProductID string `json:"product_id"`
		Quantity  int64  `json:"quantity"`
	} `json:"items"`
}

func (s *Server) reserve(w http.ResponseWriter, r *http.Request) {
	var body reservationBody
	if !decode(w, r, &body) {
		return
	}
	verr := &domain.ValidationError{}
	orderID, err := uuid.Parse(body.OrderID)
	if err != nil {
		verr.Add("order_id", "must be a UUID")
	}
	if len(body.Items) == 0 {
		verr.Add("items", "must not be empty")
	}
	want := map[string]int64{}
	for i, it := range body.Items {
		if it.Quantity < 1 || it.Quantity > product.MaxStock {
			verr.Add(fmt.Sprintf("items[%d].quantity", i), fmt.Sprintf("must be 1..%d", product.MaxStock))
		}
		want[strings.ToLower(it.ProductID)] += it.Quantity
	}
	if err := verr.OrNil(); err != nil {
		validationProblem(w, err)
		return
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	slices.Sort(ids) // the same product is named first whatever the request's order

	s.mu.Lock() // one lock over check and take: all or nothing, atomically
	defer s.mu.Unlock()
	if _, held := s.reservations[orderID.String()]; held {
		problem(w, http.StatusConflict, "conflict", "order already holds a reservation")
		return
	}
	for _, id := range ids {
		p, ok := s.live(id)
		switch {
		case !ok:
			problem(w, http.StatusNotFound, "not_found", "product "+id+" not found")
			return
		case !p.Active:
			validationProblem(w, domain.Invalid("items", "product "+id+" is inactive"))
			return
		case p.Stock < want[id]:
			writeJSON(w, http.StatusConflict, problemBody{
				Type: "https://ultramarket.uz/problems/insufficient-stock", Title: "Insufficient stock",
				Status: http.StatusConflict, Code: "insufficient_stock", ProductID: id,
				Detail: "not enough stock of product " + id,
			}, "application/problem+json")
			return
		}
	}
	for _, id := range ids {
		s.products[id].Stock -= want[id]
	}
	s.reservations[orderID.String()] = want
	writeJSON(w, http.StatusCreated, map[string]any{"order_id": orderID.String(), "items": body.Items})
}

func (s *Server) release(w http.ResponseWriter, r *http.Request) {
	orderID := strings.ToLower(r.PathValue("order_id"))
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, q := range s.reservations[orderID] {
		if p, ok := s.products[id]; ok {
			p.Stock = min(p.Stock+q, product.MaxStock)
		}
	}
	delete(s.reservations, orderID)
	w.WriteHeader(http.StatusNoContent)
}

func fromDomain(p *product.Product) Product {
	f := p.Fiscal()
	out := Product{
		ID: p.ID(), Name: p.Name(), Description: p.Description(), Category: p.Category(),
		Price: p.Price().Tiyin(), Currency: "UZS", Stock: p.Stock(), SellerID: p.SellerID(), Active: p.Active(),
		CreatedAt: p.CreatedAt(), UpdatedAt: p.UpdatedAt(),
	}
	if c := f.IKPUCode(); c != "" {
		out.IKPUCode = &c
	}
	if c := f.PackageCode(); c != "" {
		out.PackageCode = &c
	}
	if u := int64(f.UnitCode()); u != 0 {
		out.UnitCode = &u
	}
	vat := f.VATPercent()
	out.VATPercent = &vat
	return out
}

func toDomain(p Product) *product.Product {
	price, _ := money.FromTiyin(p.Price) // a seeded negative price reads as 0
	id, _ := fiscal.NewIdentity(fiscal.IdentityDraft{IKPUCode: p.IKPUCode, PackageCode: p.PackageCode,
		UnitCode: p.UnitCode, VATPercent: p.VATPercent}) // a seeded bad code reads as none
	return product.Restore(p.ID, p.Name, p.Description, p.Category, p.SellerID, price, p.Stock, p.Active,
		p.CreatedAt, p.UpdatedAt).WithFiscal(id)
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

type problemBody struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Code      string       `json:"code"`
	Detail    string       `json:"detail,omitempty"`
	Errors    []fieldError `json:"errors,omitempty"`
	ProductID string       `json:"product_id,omitempty"`
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, problemBody{
		Type:  "https://ultramarket.uz/problems/" + strings.ReplaceAll(code, "_", "-"),
		Title: http.StatusText(status), Status: status, Code: code, Detail: detail,
	}, "application/problem+json")
}

func validationProblem(w http.ResponseWriter, err error) {
	var verr *domain.ValidationError
	if !errors.As(err, &verr) {
		problem(w, http.StatusUnprocessableEntity, "validation_failed", err.Error())
		return
	}
	body := problemBody{
		Type: "https://ultramarket.uz/problems/validation-failed", Title: "Validation failed",
		Status: http.StatusUnprocessableEntity, Code: "validation_failed",
		Detail: fmt.Sprintf("%d fields are invalid", len(verr.Fields)),
	}
	for _, f := range verr.Fields {
		// The catalog service answers in English: the domain's message ids
		// are written out as their English text, its own words as they are.
		body.Errors = append(body.Errors, fieldError{Field: f.Field, Message: i18n.Catalogues().Text(i18n.English, f.Message, f.Args)})
	}
	writeJSON(w, http.StatusUnprocessableEntity, body, "application/problem+json")
}

// decode reads a JSON body strictly (unknown fields refused) and answers the
// error itself: 400 when it does not parse, 422 for a wrong type.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return true
	case errors.As(err, &typeErr):
		validationProblem(w, domain.Invalid(typeErr.Field, "has the wrong type"))
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		validationProblem(w, domain.Invalid(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not allowed"))
	default:
		problem(w, http.StatusBadRequest, "bad_request", "malformed JSON")
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any, contentType ...string) {
	ct := "application/json"
	if len(contentType) > 0 {
		ct = contentType[0]
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
