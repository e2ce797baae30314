package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

// Payme's codes, written out here rather than imported: these tests check
// the wire, not the adapter's constants.
const (
	paymeCodeNotPost       = -32300
	paymeCodeParse         = -32700
	paymeCodeInvalid       = -32600
	paymeCodeNoMethod      = -32601
	paymeCodeUnauthorized  = -32504
	paymeCodeWrongAmount   = -31001
	paymeCodeTxNotFound    = -31003
	paymeCodeCannotCancel  = -31007
	paymeCodeCannotPerform = -31008
	paymeCodeNoOrder       = -31050
)

// The Payme sandbox's run: CheckPerform → Create → Perform → Check → Cancel
// (a refund), every call sent twice with byte-for-byte identical answers.
func TestPayme_SandboxRunEachCallTwice(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 2, nil) // the repeat goes to the other instance
	o := g.newOrder(t, 5_000_000)
	pid := paymeNewID()
	paymeTime := paymeNowMillis()

	r := g.twice(t, "CheckPerformTransaction", map[string]any{"amount": o.Total, "account": paymeAccount(o.ID)})
	assert.Equal(t, map[string]any{"allow": true}, expectPaymeResult(t, r))

	before := paymeNowMillis()
	r = g.twice(t, "CreateTransaction", paymeCreateParams(pid, paymeTime, o))
	created := expectPaymeResult(t, r)
	assert.Len(t, created, 3, "create_time, transaction, state: %s", r)
	txID, _ := created["transaction"].(string)
	require.NoError(t, uuid.Validate(txID), "transaction is our id, as a string: %s", r)
	createTime := paymeNum(t, created, "create_time")
	assert.GreaterOrEqual(t, createTime, before)
	assert.EqualValues(t, 1, paymeNum(t, created, "state"))
	assert.Equal(t, "pending_payment", g.orderStatus(t, o.ID))

	// While it is live, the order cannot be paid with another Payme transaction.
	expectPaymeError(t, g.call(t, "CheckPerformTransaction", map[string]any{"amount": o.Total, "account": paymeAccount(o.ID)}),
		paymeCodeCannotPerform, nil)

	r = g.twice(t, "PerformTransaction", map[string]any{"id": pid})
	performed := expectPaymeResult(t, r)
	assert.Equal(t, map[string]any{"transaction": txID, "perform_time": performed["perform_time"], "state": float64(2)}, performed)
	performTime := paymeNum(t, performed, "perform_time")
	assert.GreaterOrEqual(t, performTime, createTime)
	assert.Equal(t, "paid", g.orderStatus(t, o.ID))
	assert.Equal(t, 1, g.count(t, `SELECT count(*) FROM order_settlements WHERE order_id = $1 AND provider = 'payme' AND provider_tx_id = $2`, o.ID, txID))
	stock, reserved := g.stock(t, o)
	assert.Equal(t, o.StockAfter, stock, "paid goods stay reserved")
	assert.Equal(t, o.Quantity, reserved)

	r = g.twice(t, "CheckTransaction", map[string]any{"id": pid})
	assert.Equal(t, map[string]any{"create_time": float64(createTime), "perform_time": float64(performTime), "cancel_time": float64(0),
		"transaction": txID, "state": float64(2), "reason": nil}, expectPaymeResult(t, r))

	r = g.twice(t, "CancelTransaction", map[string]any{"id": pid, "reason": 5})
	cancelled := expectPaymeResult(t, r)
	cancelTime := paymeNum(t, cancelled, "cancel_time")
	assert.GreaterOrEqual(t, cancelTime, performTime)
	assert.Equal(t, map[string]any{"transaction": txID, "cancel_time": float64(cancelTime), "state": float64(-2)}, cancelled)
	assert.Equal(t, "refunded", g.orderStatus(t, o.ID), "a cancel after perform refunds the order")
	stock, reserved = g.stock(t, o)
	assert.Equal(t, o.StockAfter+o.Quantity, stock, "the refund gives the stock back")
	assert.Zero(t, reserved)

	// A cancel with another reason is a replay: the stored reason and time stay.
	r = g.call(t, "CancelTransaction", map[string]any{"id": pid, "reason": 1})
	assert.Equal(t, cancelled, expectPaymeResult(t, r))
	r = g.call(t, "CheckTransaction", map[string]any{"id": pid})
	assert.Equal(t, map[string]any{"create_time": float64(createTime), "perform_time": float64(performTime),
		"cancel_time": float64(cancelTime), "transaction": txID, "state": float64(-2), "reason": float64(5)}, expectPaymeResult(t, r))
	stock, _ = g.stock(t, o)
	assert.Equal(t, o.StockAfter+o.Quantity, stock, "released once")

	// After the refund nothing more can happen to it.
	expectPaymeError(t, g.call(t, "PerformTransaction", map[string]any{"id": pid}), paymeCodeCannotPerform, nil)
	expectPaymeError(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeTime, o)), paymeCodeCannotPerform, nil)
	expectPaymeError(t, g.call(t, "CreateTransaction", paymeCreateParams(paymeNewID(), paymeNowMillis(), o)), paymeCodeCannotPerform, nil)

	r = g.call(t, "GetStatement", map[string]any{"from": paymeTime, "to": paymeTime})
	assert.Equal(t, map[string]any{"transactions": []any{map[string]any{
		"id": pid, "time": float64(paymeTime), "amount": float64(o.Total), "account": map[string]any{"order_id": o.ID},
		"create_time": float64(createTime), "perform_time": float64(performTime), "cancel_time": float64(cancelTime),
		"transaction": txID, "state": float64(-2), "reason": float64(5), "receivers": nil,
	}}}, expectPaymeResult(t, r))

	_, metrics := get(t, g.apps[0].OpsURL+"/metrics", nil)
	for _, outcome := range []string{"allowed", "created", "performed", "refunded", "replayed", "checked", "statement", "rejected"} {
		assert.Contains(t, string(metrics), `payments_total{outcome="`+outcome+`",provider="payme"}`, outcome)
	}
	// rejected is there from the start, at 0 (adapters/metrics): it counted.
	assert.NotContains(t, string(metrics), `payments_total{outcome="rejected",provider="payme"} 0`+"\n")
}

func TestPayme_CancelBeforePerformLeavesTheOrderPayable(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, nil)
	o := g.newOrder(t, 1_000_000)
	pid := paymeNewID()
	created := expectPaymeResult(t, g.twice(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis(), o)))

	r := g.twice(t, "CancelTransaction", map[string]any{"id": pid, "reason": 3})
	cancelled := expectPaymeResult(t, r)
	assert.EqualValues(t, -1, paymeNum(t, cancelled, "state"))
	assert.Equal(t, created["transaction"], cancelled["transaction"])
	assert.Equal(t, "pending_payment", g.orderStatus(t, o.ID), "a cancel before perform keeps the order")
	_, reserved := g.stock(t, o)
	assert.Equal(t, o.Quantity, reserved, "the unpaid order keeps its reservation until it expires")

	check := expectPaymeResult(t, g.call(t, "CheckTransaction", map[string]any{"id": pid}))
	assert.EqualValues(t, 3, paymeNum(t, check, "reason"))
	assert.Zero(t, paymeNum(t, check, "perform_time"))

	expectPaymeError(t, g.call(t, "PerformTransaction", map[string]any{"id": pid}), paymeCodeCannotPerform, nil)
	expectPaymeError(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis(), o)), paymeCodeCannotPerform, nil)

	// The buyer tries again: a new Payme transaction may pay the order.
	pid2 := paymeNewID()
	expectPaymeResult(t, g.call(t, "CheckPerformTransaction", map[string]any{"amount": o.Total, "account": paymeAccount(o.ID)}))
	expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid2, paymeNowMillis(), o)))
	expectPaymeResult(t, g.call(t, "PerformTransaction", map[string]any{"id": pid2}))
	assert.Equal(t, "paid", g.orderStatus(t, o.ID))
}

// CheckTransaction only reads: it answers with the last committed state
// while a Perform or Cancel (here, a session standing in for one) holds the
// transaction's row, instead of queueing behind it.
func TestPayme_CheckTransactionDoesNotWaitForARowLock(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, nil)
	o := g.newOrder(t, 5_000_000)
	pid := paymeNewID()
	expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis(), o)))

	lock, err := g.db.BeginTxx(t.Context(), nil)
	require.NoError(t, err)
	defer func() { _ = lock.Rollback() }()
	_, err = lock.ExecContext(t.Context(), `SELECT 1 FROM payme_transactions WHERE payme_id = $1 FOR UPDATE`, pid)
	require.NoError(t, err)

	// The lock is held until this test ends: a CheckTransaction that waited
	// for it would still be waiting at the deadline.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.apps[0].BaseURL+paymeRoute,
		bytes.NewReader(paymeBody(1, "CheckTransaction", map[string]any{"id": pid})))
	require.NoError(t, err)
	req.Header.Set("Authorization", paymeAuth)
	resp, err := paymeClient.Do(req)
	require.NoError(t, err, "CheckTransaction answers while the row is locked")
	defer resp.Body.Close()
	var env struct {
		Result map[string]any `json:"result"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
	assert.Equal(t, float64(1), env.Result["state"], "the committed state")
}

func TestPayme_WrongCredentials(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, nil)
	o := g.newOrder(t, 1_000_000)
	pid := paymeNewID()
	expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis(), o)))

	bodies := map[string][]byte{
		"CheckPerformTransaction": paymeBody(1, "CheckPerformTransaction", map[string]any{"amount": o.Total, "account": paymeAccount(o.ID)}),
		"CreateTransaction":       paymeBody(2, "CreateTransaction", paymeCreateParams(paymeNewID(), paymeNowMillis(), o)),
		"PerformTransaction":      paymeBody(3, "PerformTransaction", map[string]any{"id": pid}),
		"CancelTransaction":       paymeBody(4, "CancelTransaction", map[string]any{"id": pid, "reason": 5}),
		"CheckTransaction":        paymeBody(5, "CheckTransaction", map[string]any{"id": pid}),
		"GetStatement":            paymeBody(6, "GetStatement", map[string]any{"from": 0, "to": paymeNowMillis()}),
		"SetFiscalData":           paymeBody(7, "SetFiscalData", map[string]any{"id": pid, "type": "PERFORM", "fiscal_data": map[string]any{}}),
		"ChangePassword":          paymeBody(8, "ChangePassword", map[string]any{"password": "x"}),
	}
	for name, auth := range map[string]string{
		"none":        "",
		"wrong key":   "Basic " + base64.StdEncoding.EncodeToString([]byte(paymeLogin+":"+paymeKey+"0")),
		"wrong login": "Basic " + base64.StdEncoding.EncodeToString([]byte("paycom:"+paymeKey)),
		"bearer":      "Bearer " + paymeKey,
	} {
		for method, body := range bodies {
			t.Run(name+" "+method, func(t *testing.T) {
				r := g.raw(t, 0, body, auth)
				expectPaymeError(t, r, paymeCodeUnauthorized, nil)
				// Refused before the body (and so its id) is read (API.md).
				assert.Equal(t, "null", string(r.ID), "%s %s", name, method)
			})
		}
	}
	// Nothing happened.
	assert.Equal(t, "pending_payment", g.orderStatus(t, o.ID))
	check := expectPaymeResult(t, g.call(t, "CheckTransaction", map[string]any{"id": pid}))
	assert.EqualValues(t, 1, paymeNum(t, check, "state"))
	assert.Equal(t, 1, g.count(t, `SELECT count(*) FROM payme_transactions`))

	assert.NotContains(t, g.apps[0].Logs.String(), paymeKey, "the key never reaches the log")
	assert.NotContains(t, g.apps[0].Logs.String(), strings.TrimPrefix(paymeAuth, "Basic "))
}

func TestPayme_AllowListUsesTheClientIP(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, func(c *config.Config) {
		c.PaymeAllowedIPs = paymeNets(t, "185.234.113.0/28")
		c.TrustedProxies = paymeNets(t, "127.0.0.1/32")
	})
	body := paymeBody(1, "GetStatement", map[string]any{"from": 0, "to": 1})
	for xff, ok := range map[string]bool{"185.234.113.7": true, "185.234.113.16": false, "": false} {
		t.Run(fmt.Sprintf("from %q", xff), func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, g.apps[0].BaseURL+paymeRoute, strings.NewReader(string(body)))
			require.NoError(t, err)
			req.Header.Set("Authorization", paymeAuth)
			if xff != "" {
				req.Header.Set("X-Forwarded-For", xff)
			}
			resp, err := paymeClient.Do(req)
			require.NoError(t, err)
			raw, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			if ok {
				assert.Contains(t, string(raw), `"result":{"transactions":[]}`, "from %q", xff)
			} else {
				assert.Contains(t, string(raw), fmt.Sprintf(`"code":%d`, paymeCodeUnauthorized), "from %q: %s", xff, raw)
			}
		})
	}
}

func TestPayme_WrongAmount(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, nil)
	o := g.newOrder(t, 2_000_000)
	for _, amount := range []int64{o.Total - 1, o.Total + 1, o.Total / 100} {
		expectPaymeError(t, g.call(t, "CheckPerformTransaction", map[string]any{"amount": amount, "account": paymeAccount(o.ID)}),
			paymeCodeWrongAmount, nil)
		p := paymeCreateParams(paymeNewID(), paymeNowMillis(), o)
		p["amount"] = amount
		expectPaymeError(t, g.call(t, "CreateTransaction", p), paymeCodeWrongAmount, nil)
	}
	// Not a positive integer: a malformed request, whatever its value.
	for _, amount := range []any{1.5, "2000000", 0, -2000000, 2000000.5} {
		expectPaymeError(t, g.call(t, "CheckPerformTransaction", map[string]any{"amount": amount, "account": paymeAccount(o.ID)}),
			paymeCodeInvalid, "amount")
	}
	assert.Zero(t, g.count(t, `SELECT count(*) FROM payme_transactions`), "refused creates store nothing")
}

func TestPayme_UnknownOrder(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, nil)
	for name, acct := range map[string]map[string]any{
		"unknown uuid": {"order_id": uuid.NewString()},
		"not a uuid":   {"order_id": "1001"},
		"a number":     {"order_id": 1001},
		"missing":      {"phone": "998901234567"},
		"empty":        {},
	} {
		t.Run(name, func(t *testing.T) {
			expectPaymeError(t, g.call(t, "CheckPerformTransaction", map[string]any{"amount": 100, "account": acct}), paymeCodeNoOrder, "order_id")
			r := g.call(t, "CreateTransaction", map[string]any{"id": paymeNewID(), "time": paymeNowMillis(), "amount": 100, "account": acct})
			expectPaymeError(t, r, paymeCodeNoOrder, "order_id")
			assert.Equal(t, "Заказ не найден", r.Error.Message["ru"], name)
		})
	}
	for _, method := range []string{"PerformTransaction", "CheckTransaction"} {
		expectPaymeError(t, g.call(t, method, map[string]any{"id": paymeNewID()}), paymeCodeTxNotFound, nil)
	}
	expectPaymeError(t, g.call(t, "CancelTransaction", map[string]any{"id": paymeNewID(), "reason": 1}), paymeCodeTxNotFound, nil)
}

func TestPayme_ProtocolErrorsAreHTTP200(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, nil)
	for body, code := range map[string]int{
		`not json`: paymeCodeParse,
		`{"method":"CheckTransaction","params":{"id":"a"},"id":1,"pad":"` + strings.Repeat("x", 1<<20) + `"}`: paymeCodeParse,
		`[1,2]`:                paymeCodeInvalid,
		`{"params":{},"id":1}`: paymeCodeInvalid,
		`{"method":"ChangePassword","params":{"password":"p"},"id":1}`:         paymeCodeNoMethod,
		`{"method":"CancelTransaction","params":{"id":"a","reason":7},"id":1}`: paymeCodeInvalid,
	} {
		t.Run(fmt.Sprintf("%.40s", body), func(t *testing.T) {
			r := g.raw(t, 0, []byte(body), paymeAuth)
			require.NotNil(t, r.Error, "%.80s", body)
			assert.Equal(t, code, r.Error.Code, "%.80s: %s", body, r)
		})
	}
	// Not a POST: still HTTP 200, in Payme's format, with -32300.
	resp, body := get(t, g.apps[0].BaseURL+paymeRoute, map[string]string{"Authorization": paymeAuth})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	var env struct {
		Error *paymeRPCError `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &env), string(body))
	require.NotNil(t, env.Error, string(body))
	assert.Equal(t, paymeCodeNotPost, env.Error.Code)
}

// The 12 hours count from Payme's time of CreateTransaction.
func TestPayme_TimeoutAfterTwelveHours(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, nil)
	twelveHours := (12 * time.Hour).Milliseconds()

	t.Run("create with a Payme time already past", func(t *testing.T) {
		o := g.newOrder(t, 1_000_000)
		pid := paymeNewID()
		r := g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis()-twelveHours-1, o))
		expectPaymeError(t, r, paymeCodeCannotPerform, nil)

		// A create that failed is not stored (GetStatement lists only
		// successful creates), so Payme's CheckTransaction finds nothing.
		expectPaymeError(t, g.call(t, "CheckTransaction", map[string]any{"id": pid}), paymeCodeTxNotFound, nil)
		assert.Equal(t, "pending_payment", g.orderStatus(t, o.ID))

		// It does not hold the order: a fresh transaction may pay it.
		pid2 := paymeNewID()
		expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid2, paymeNowMillis(), o)))
		expectPaymeResult(t, g.call(t, "PerformTransaction", map[string]any{"id": pid2}))
		assert.Equal(t, "paid", g.orderStatus(t, o.ID))
	})

	t.Run("perform after the transaction aged", func(t *testing.T) {
		o := g.newOrder(t, 1_000_000)
		pid := paymeNewID()
		paymeTime := paymeNowMillis()
		expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeTime, o)))
		g.age(t, pid, twelveHours+1)

		r := g.twice(t, "PerformTransaction", map[string]any{"id": pid})
		expectPaymeError(t, r, paymeCodeCannotPerform, nil)
		check := expectPaymeResult(t, g.call(t, "CheckTransaction", map[string]any{"id": pid}))
		assert.EqualValues(t, -1, paymeNum(t, check, "state"))
		assert.EqualValues(t, 4, paymeNum(t, check, "reason"))
		assert.Equal(t, "pending_payment", g.orderStatus(t, o.ID), "the timeout does not touch the order")
		expectPaymeError(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeTime, o)), paymeCodeCannotPerform, nil)
	})

	t.Run("create replay after the transaction aged", func(t *testing.T) {
		o := g.newOrder(t, 1_000_000)
		pid := paymeNewID()
		paymeTime := paymeNowMillis()
		expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeTime, o)))
		g.age(t, pid, twelveHours+1)

		expectPaymeError(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeTime, o)), paymeCodeCannotPerform, nil)
		check := expectPaymeResult(t, g.call(t, "CheckTransaction", map[string]any{"id": pid}))
		assert.EqualValues(t, 4, paymeNum(t, check, "reason"))
	})

	t.Run("exactly twelve hours is still in time", func(t *testing.T) {
		o := g.newOrder(t, 1_000_000)
		pid := paymeNewID()
		expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis(), o)))
		g.age(t, pid, twelveHours-5_000) // minus slack for the time the call takes
		expectPaymeResult(t, g.call(t, "PerformTransaction", map[string]any{"id": pid}))
	})

	t.Run("check reports, never cancels", func(t *testing.T) {
		o := g.newOrder(t, 1_000_000)
		pid := paymeNewID()
		expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis(), o)))
		g.age(t, pid, twelveHours+1)
		check := expectPaymeResult(t, g.call(t, "CheckTransaction", map[string]any{"id": pid}))
		assert.EqualValues(t, 1, paymeNum(t, check, "state"))
		assert.Nil(t, check["reason"])
	})
}

// age moves a transaction's Payme time back by ms, as if Payme had created it
// that long ago.
func (g *paymeGateway) age(t *testing.T, pid string, ms int64) {
	t.Helper()
	_, err := g.db.Exec(`UPDATE payme_transactions SET payme_time = payme_time - $2 WHERE payme_id = $1`, pid, ms)
	require.NoError(t, err)
}

func TestPayme_SweepCancelsTimedOutTransactions(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 2, func(c *config.Config) { c.ExpirySweepInterval = 50 * time.Millisecond })
	o := g.newOrder(t, 1_000_000)
	fresh := g.newOrder(t, 1_000_000)
	pid, livePID := paymeNewID(), paymeNewID()
	expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis(), o)))
	expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(livePID, paymeNowMillis(), fresh)))
	g.age(t, pid, (12*time.Hour).Milliseconds()+1)

	require.Eventually(t, func() bool {
		check := expectPaymeResult(t, g.call(t, "CheckTransaction", map[string]any{"id": pid}))
		return paymeNum(t, check, "state") == -1
	}, 10*time.Second, 50*time.Millisecond, "the sweep cancels it")
	check := expectPaymeResult(t, g.call(t, "CheckTransaction", map[string]any{"id": pid}))
	assert.EqualValues(t, 4, paymeNum(t, check, "reason"))
	assert.Equal(t, "pending_payment", g.orderStatus(t, o.ID))

	live := expectPaymeResult(t, g.call(t, "CheckTransaction", map[string]any{"id": livePID}))
	assert.EqualValues(t, 1, paymeNum(t, live, "state"), "a live one is left alone")
}

func TestPayme_CancelAfterShippingIsRefused(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, nil)
	for _, delivered := range []bool{false, true} {
		o := g.newOrder(t, 1_000_000)
		pid := paymeNewID()
		expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis(), o)))
		performed := expectPaymeResult(t, g.call(t, "PerformTransaction", map[string]any{"id": pid}))
		g.ship(t, o.ID, delivered)
		want := map[bool]string{false: "shipped", true: "delivered"}[delivered]

		r := g.twice(t, "CancelTransaction", map[string]any{"id": pid, "reason": 5})
		expectPaymeError(t, r, paymeCodeCannotCancel, nil)
		assert.Equal(t, want, g.orderStatus(t, o.ID), "nothing changes")
		check := expectPaymeResult(t, g.call(t, "CheckTransaction", map[string]any{"id": pid}))
		assert.EqualValues(t, 2, paymeNum(t, check, "state"))
		assert.Zero(t, paymeNum(t, check, "cancel_time"))
		assert.Nil(t, check["reason"])
		assert.Equal(t, performed["perform_time"], check["perform_time"])
		stock, reserved := g.stock(t, o)
		assert.Equal(t, o.StockAfter, stock)
		assert.Equal(t, o.Quantity, reserved)
	}
}

func TestPayme_OrderThatCannotBePaid(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, nil)

	t.Run("held by another live transaction", func(t *testing.T) {
		o := g.newOrder(t, 1_000_000)
		expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(paymeNewID(), paymeNowMillis(), o)))
		expectPaymeError(t, g.call(t, "CheckPerformTransaction", map[string]any{"amount": o.Total, "account": paymeAccount(o.ID)}),
			paymeCodeCannotPerform, nil)
		expectPaymeError(t, g.call(t, "CreateTransaction", paymeCreateParams(paymeNewID(), paymeNowMillis(), o)), paymeCodeCannotPerform, nil)
	})
	for _, status := range []string{"cancelled", "paid"} {
		t.Run(status, func(t *testing.T) {
			o := g.newOrder(t, 1_000_000)
			q := `UPDATE orders SET status = 'cancelled', cancelled_at = now() WHERE id = $1`
			if status == "paid" { // e.g. through Click
				q = `UPDATE orders SET status = 'paid', paid_at = now() WHERE id = $1`
			}
			_, err := g.db.Exec(q, o.ID)
			require.NoError(t, err)
			expectPaymeError(t, g.call(t, "CheckPerformTransaction", map[string]any{"amount": o.Total, "account": paymeAccount(o.ID)}),
				paymeCodeCannotPerform, nil)
			expectPaymeError(t, g.call(t, "CreateTransaction", paymeCreateParams(paymeNewID(), paymeNowMillis(), o)), paymeCodeCannotPerform, nil)
		})
	}
	t.Run("cancelled between create and perform", func(t *testing.T) {
		o := g.newOrder(t, 1_000_000)
		pid := paymeNewID()
		expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis(), o)))
		_, err := g.db.Exec(`UPDATE orders SET status = 'cancelled', cancelled_at = now() WHERE id = $1`, o.ID)
		require.NoError(t, err)
		expectPaymeError(t, g.call(t, "PerformTransaction", map[string]any{"id": pid}), paymeCodeCannotPerform, nil)
		assert.Zero(t, g.count(t, `SELECT count(*) FROM order_settlements WHERE order_id = $1`, o.ID))
		// Payme then cancels its transaction.
		r := expectPaymeResult(t, g.call(t, "CancelTransaction", map[string]any{"id": pid, "reason": 3}))
		assert.EqualValues(t, -1, paymeNum(t, r, "state"))
	})
}

func TestPayme_GetStatement(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, nil)
	base := paymeNowMillis() - 60_000
	type made struct {
		pid  string
		time int64
	}
	var all []made
	// Created out of order, in four states, one with an extra account field.
	for i, step := range []string{"perform", "create", "cancel", "refund"} {
		o := g.newOrder(t, 1_000_000)
		m := made{pid: paymeNewID(), time: base + int64(3-i)*1000}
		p := paymeCreateParams(m.pid, m.time, o)
		if step == "create" {
			p["account"] = map[string]any{"order_id": o.ID, "phone": "998901234567"}
		}
		expectPaymeResult(t, g.call(t, "CreateTransaction", p))
		switch step {
		case "perform":
			expectPaymeResult(t, g.call(t, "PerformTransaction", map[string]any{"id": m.pid}))
		case "cancel":
			expectPaymeResult(t, g.call(t, "CancelTransaction", map[string]any{"id": m.pid, "reason": 2}))
		case "refund":
			expectPaymeResult(t, g.call(t, "PerformTransaction", map[string]any{"id": m.pid}))
			expectPaymeResult(t, g.call(t, "CancelTransaction", map[string]any{"id": m.pid, "reason": 5}))
		}
		all = append(all, m)
	}
	// A refused create is not listed.
	refused := g.newOrder(t, 1_000_000)
	p := paymeCreateParams(paymeNewID(), base+1500, refused)
	p["amount"] = 1
	expectPaymeError(t, g.call(t, "CreateTransaction", p), paymeCodeWrongAmount, nil)

	list := func(from, to int64) []map[string]any {
		r := expectPaymeResult(t, g.call(t, "GetStatement", map[string]any{"from": from, "to": to}))
		txs, ok := r["transactions"].([]any)
		require.True(t, ok, "transactions is a list: %v", r)
		out := make([]map[string]any, len(txs))
		for i, x := range txs {
			out[i] = x.(map[string]any)
		}
		return out
	}
	got := list(base, base+3000) // inclusive at both ends
	require.Len(t, got, 4)
	var states []float64
	for i, tx := range got {
		assert.Equal(t, all[3-i].pid, tx["id"], "ascending by Payme time")
		assert.Equal(t, float64(all[3-i].time), tx["time"])
		assert.Nil(t, tx["receivers"])
		assert.Len(t, tx, 11)
		states = append(states, tx["state"].(float64))
	}
	assert.Equal(t, []float64{-2, -1, 1, 2}, states)
	assert.Equal(t, 2, len(got[2]["account"].(map[string]any)), "account as Payme sent it")
	assert.Equal(t, "998901234567", got[2]["account"].(map[string]any)["phone"])
	assert.Nil(t, got[2]["reason"])
	assert.Equal(t, float64(2), got[1]["reason"])

	assert.Len(t, list(base+1000, base+2000), 2)
	assert.Len(t, list(base+1, base+999), 0)
	assert.Len(t, list(base+3001, base+9000), 0)
	r := g.call(t, "GetStatement", map[string]any{"from": base + 5000, "to": base})
	assert.Contains(t, r.String(), `"result":{"transactions":[]}`)
}

func TestPayme_SetFiscalData(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, nil)
	o := g.newOrder(t, 1_000_000)
	pid := paymeNewID()
	expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis(), o)))
	expectPaymeResult(t, g.call(t, "PerformTransaction", map[string]any{"id": pid}))

	receipt := map[string]any{"receipt_id": 121, "status_code": 0, "message": "accepted", "terminal_id": "EP000000000025",
		"fiscal_sign": "800031554082", "qr_code_url": "https://ofd.soliq.uz/check?t=EP000000000025&r=121", "date": "20220706221021"}
	r := g.twice(t, "SetFiscalData", map[string]any{"id": pid, "type": "PERFORM", "fiscal_data": receipt})
	assert.Equal(t, map[string]any{"success": true}, expectPaymeResult(t, r))
	var stored string
	require.NoError(t, g.db.Get(&stored, `SELECT fiscal_perform::text FROM payme_transactions WHERE payme_id = $1`, pid))
	assert.Contains(t, stored, `"fiscal_sign": "800031554082"`)

	r = g.call(t, "SetFiscalData", map[string]any{"id": paymeNewID(), "type": "CANCEL", "fiscal_data": receipt})
	expectPaymeError(t, r, -32001, nil)
	r = g.call(t, "SetFiscalData", map[string]any{"id": pid, "type": "REFUND", "fiscal_data": receipt})
	expectPaymeError(t, r, -32602, "type")
}

// Races: many identical or competing calls at once, spread over two
// instances. The database, not process memory, keeps one payment per order.

func TestPayme_RaceIdenticalCreatesMakeOneTransaction(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 2, nil)
	o := g.newOrder(t, 1_000_000)
	body := paymeBody(7, "CreateTransaction", paymeCreateParams(paymeNewID(), paymeNowMillis(), o))

	answers := paymeConcurrently(t, 50, func(i int) (paymeReply, error) { return g.rawErr(i, body, paymeAuth) })
	for _, a := range answers[1:] {
		assert.Equal(t, answers[0].String(), a.String(), "50 identical answers")
	}
	expectPaymeResult(t, answers[0])
	assert.Equal(t, 1, g.count(t, `SELECT count(*) FROM payme_transactions WHERE order_id = $1`, o.ID))
}

func TestPayme_RaceCreatesWithDifferentIDsOneWins(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 2, nil)
	o := g.newOrder(t, 1_000_000)
	now := paymeNowMillis()

	answers := paymeConcurrently(t, 50, func(i int) (paymeReply, error) {
		return g.rawErr(i, paymeBody(i, "CreateTransaction", paymeCreateParams(paymeNewID(), now, o)), paymeAuth)
	})
	won := 0
	for _, a := range answers {
		if a.Error == nil {
			won++
			continue
		}
		assert.Equal(t, paymeCodeCannotPerform, a.Error.Code, a.String())
	}
	assert.Equal(t, 1, won, "exactly one Payme transaction holds the order")
	assert.Equal(t, 1, g.count(t, `SELECT count(*) FROM payme_transactions WHERE order_id = $1`, o.ID))
}

func TestPayme_RacePerformsMakeOneSettlement(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 2, nil)
	o := g.newOrder(t, 1_000_000)
	pid := paymeNewID()
	expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis(), o)))
	body := paymeBody(9, "PerformTransaction", map[string]any{"id": pid})

	answers := paymeConcurrently(t, 50, func(i int) (paymeReply, error) { return g.rawErr(i, body, paymeAuth) })
	for _, a := range answers {
		expectPaymeResult(t, a)
		assert.Equal(t, answers[0].String(), a.String(), "every Perform answers the one stored perform_time")
	}
	assert.Equal(t, 1, g.count(t, `SELECT count(*) FROM order_settlements WHERE order_id = $1`, o.ID))
	assert.Equal(t, "paid", g.orderStatus(t, o.ID))
}

func TestPayme_RaceCancelsAndPerformsAgree(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 2, nil)
	o := g.newOrder(t, 1_000_000)
	pid := paymeNewID()
	expectPaymeResult(t, g.call(t, "CreateTransaction", paymeCreateParams(pid, paymeNowMillis(), o)))
	perform := paymeBody(1, "PerformTransaction", map[string]any{"id": pid})
	cancel := paymeBody(2, "CancelTransaction", map[string]any{"id": pid, "reason": 3})

	answers := paymeConcurrently(t, 40, func(i int) (paymeReply, error) {
		if i%2 == 0 {
			return g.rawErr(i, perform, paymeAuth)
		}
		return g.rawErr(i, cancel, paymeAuth)
	})
	check := expectPaymeResult(t, g.call(t, "CheckTransaction", map[string]any{"id": pid}))
	state := paymeNum(t, check, "state")
	status := g.orderStatus(t, o.ID)
	switch state {
	case -1: // cancelled first: no perform succeeded
		assert.Equal(t, "pending_payment", status)
		assert.Zero(t, g.count(t, `SELECT count(*) FROM order_settlements WHERE order_id = $1`, o.ID))
	case -2: // performed, then refunded
		assert.Equal(t, "refunded", status)
		assert.Equal(t, 1, g.count(t, `SELECT count(*) FROM order_settlements WHERE order_id = $1`, o.ID))
	default:
		t.Fatalf("state %d after perform/cancel race", state)
	}
	for _, a := range answers {
		if a.Error != nil {
			assert.Equal(t, paymeCodeCannotPerform, a.Error.Code, "only a Perform after the cancel is refused: %s", a)
		}
	}
}

// paymeConcurrently runs n calls at once and returns their answers.
func paymeConcurrently(t *testing.T, n int, call func(i int) (paymeReply, error)) []paymeReply {
	t.Helper()
	out := make([]paymeReply, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i], errs[i] = call(i)
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "call %d", i)
	}
	return out
}
