package main

// The operations each scenario repeats.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// getOp is a GET of url that must answer 200; header may be nil.
func getOp(url string, header func(w *worker) map[string]string) opFunc {
	return func(ctx context.Context, w *worker) error {
		var h map[string]string
		if header != nil {
			h = header(w)
		}
		st, body, err := w.doHTTP(ctx, http.MethodGet, url, nil, h)
		if err != nil {
			return err
		}
		return expect(st, http.StatusOK, body, "GET "+url)
	}
}

func bearer(f *fixture) func(w *worker) map[string]string {
	headers := make([]map[string]string, len(f.buyers))
	for i, b := range f.buyers {
		headers[i] = map[string]string{"Authorization": "Bearer " + b.token}
	}
	return func(w *worker) map[string]string { return headers[w.id%len(headers)] }
}

// pendingOrder is an order placed by the orders scenario, waiting for Payme.
type pendingOrder struct {
	id    string
	total int64
}

// orderPool hands each Payme pair an order of its own.
type orderPool struct {
	mu     sync.Mutex
	orders []pendingOrder
}

func (p *orderPool) push(o pendingOrder) { p.mu.Lock(); p.orders = append(p.orders, o); p.mu.Unlock() }

func (p *orderPool) pop() (pendingOrder, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.orders) == 0 {
		return pendingOrder{}, false
	}
	o := p.orders[len(p.orders)-1]
	p.orders = p.orders[:len(p.orders)-1]
	return o, true
}

func (p *orderPool) len() int { p.mu.Lock(); defer p.mu.Unlock(); return len(p.orders) }

// placeOrderOp is POST /api/orders of one unit of each of products by the
// worker's buyer; each order placed goes into pool when there is one.
func placeOrderOp(base string, f *fixture, products []string, pool *orderPool) opFunc {
	items := make([]map[string]any, len(products))
	for i, id := range products {
		items[i] = map[string]any{"product_id": id, "quantity": 1}
	}
	body, _ := json.Marshal(map[string]any{
		"items": items,
		"shipping_address": map[string]any{
			"region": "Toshkent", "city": "Toshkent", "street": "Amir Temur ko'chasi 1", "phone": "+998901234567",
		},
	})
	auth := bearer(f)
	url := base + "/api/orders"
	return func(ctx context.Context, w *worker) error {
		st, resp, err := w.doHTTP(ctx, http.MethodPost, url, body, auth(w))
		if err != nil {
			return err
		}
		if err := expect(st, http.StatusCreated, resp, "POST /api/orders"); err != nil {
			return err
		}
		var o struct {
			ID     string `json:"id"`
			Total  int64  `json:"total"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal(resp, &o); err != nil || o.ID == "" || o.Total <= 0 {
			return fmt.Errorf("POST /api/orders: unexpected body %.120s", resp)
		}
		if pool != nil {
			pool.push(pendingOrder{id: o.ID, total: o.Total})
		}
		return nil
	}
}

// paymePairOp is one Payme payment of a fresh order: CreateTransaction, then
// PerformTransaction of the same transaction, as Payme sends them.
func paymePairOp(base string, pool *orderPool) opFunc {
	url := base + "/api/payments/payme"
	header := map[string]string{
		"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(paymeLogin+":"+paymeKey)),
	}
	var prefix [4]byte
	_, _ = rand.Read(prefix[:])
	run := hex.EncodeToString(prefix[:]) // 8 hex characters
	var seq atomic.Int64
	return func(ctx context.Context, w *worker) error {
		o, ok := pool.pop()
		if !ok {
			return errStop
		}
		n := seq.Add(1)
		txID := run + fmt.Sprintf("%016x", n) // 24 characters, like Payme's ids
		create, _ := json.Marshal(map[string]any{
			"method": "CreateTransaction", "id": 2 * n,
			"params": map[string]any{
				"id": txID, "time": time.Now().UnixMilli(), "amount": o.total,
				"account": map[string]any{"order_id": o.id},
			},
		})
		if err := paymeCall(ctx, w, url, create, header, "CreateTransaction", 1); err != nil {
			return err
		}
		perform, _ := json.Marshal(map[string]any{
			"method": "PerformTransaction", "id": 2*n + 1,
			"params": map[string]any{"id": txID},
		})
		return paymeCall(ctx, w, url, perform, header, "PerformTransaction", 2)
	}
}

func paymeCall(ctx context.Context, w *worker, url string, body []byte, header map[string]string, method string, wantState int) error {
	st, resp, err := w.doHTTP(ctx, http.MethodPost, url, body, header)
	if err != nil {
		return err
	}
	if err := expect(st, http.StatusOK, resp, method); err != nil {
		return err
	}
	var env struct {
		Result *struct {
			State int `json:"state"`
		} `json:"result"`
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(resp, &env); err != nil {
		return fmt.Errorf("%s: not JSON: %.120s", method, resp)
	}
	switch {
	case env.Error != nil:
		return fmt.Errorf("%s: JSON-RPC error %d: %.160s", method, env.Error.Code, resp)
	case env.Result == nil || env.Result.State != wantState:
		return fmt.Errorf("%s: want state %d: %.160s", method, wantState, resp)
	}
	return nil
}

// loginOp is POST /api/auth/login as the worker's buyer.
func loginOp(base string, f *fixture) opFunc {
	bodies := make([][]byte, len(f.buyers))
	for i, b := range f.buyers {
		bodies[i], _ = json.Marshal(map[string]string{"email": b.email, "password": benchPassword})
	}
	url := base + "/api/auth/login"
	return func(ctx context.Context, w *worker) error {
		st, resp, err := w.doHTTP(ctx, http.MethodPost, url, bodies[w.id%len(bodies)], nil)
		if err != nil {
			return err
		}
		return expect(st, http.StatusOK, resp, "POST /api/auth/login")
	}
}

// fmtDur prints a latency with 3 significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 0, 64) + " µs"
	case d < 10*time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
	}
}
