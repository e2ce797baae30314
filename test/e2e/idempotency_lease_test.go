package e2e

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/application/orders"
)

// requestHashOf is the request hash the gateway stored for the user's key.
func (s *shop) requestHashOf(t *testing.T, userID, key string) string {
	t.Helper()
	var h string
	require.NoError(t, s.DB.Get(&h, `SELECT request_hash FROM idempotency_keys WHERE user_id = $1 AND key = $2`, userID, key))
	return h
}

// API.md: the same key while its first request is still being processed →
// 409 conflict; a key whose first request died mid-way (its process
// crashed) is free again after at most 60 s. A crashed request is a claim
// left in progress: made here through the store with a clock of our own,
// once with a lease still running and once with one that ended a minute ago.
func TestOrders_IdempotencyKeyOfADeadRequestIsFreeAgain(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		id := s.newProduct(t, 1_000, 10)
		body := orderOf(item(id, 1))
		expectJSON(t, s.placeOrder(t, s.customer.Access, body, "probe"), http.StatusCreated)
		hash := s.requestHashOf(t, s.customer.ID, "probe") // what a request with body carries
		store := postgres.NewIdempotencyStore(s.DB)
		c := context.Background()
		claim := func(key, hash string, at time.Time) string {
			rec, claimed, err := store.Begin(c, s.customer.ID, key, hash, at, orders.IdempotencyTTL, orders.IdempotencyLease)
			require.NoError(t, err)
			require.True(t, claimed)
			return rec.Claim
		}

		// Its first request is alive (its lease runs): 409 conflict, nothing reserved.
		claim("live", hash, time.Now())
		expectProblem(t, s.placeOrder(t, s.customer.Access, body, "live"), http.StatusConflict, "conflict")
		assert.EqualValues(t, 9, s.stockOf(t, id))

		// Its first request died more than the lease ago: the retry places the order.
		dead := claim("dead", hash, time.Now().Add(-orders.IdempotencyLease-time.Minute))
		r := s.placeOrder(t, s.customer.Access, body, "dead")
		expectJSON(t, r, http.StatusCreated)
		placed := asMap(t, r)
		assert.Equal(t, "pending_payment", placed["status"])
		assert.EqualValues(t, 8, s.stockOf(t, id))
		// ...and the key now answers with that order.
		again := s.placeOrder(t, s.customer.Access, body, "dead")
		expectJSON(t, again, http.StatusCreated)
		assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
		assert.Equal(t, placed["id"], asMap(t, again)["id"])
		assert.EqualValues(t, 8, s.stockOf(t, id), "reserved once")
		// Were the dead request alive after all, it could not complete the key.
		assert.ErrorIs(t, store.Complete(c, s.customer.ID, "dead", dead, uuid.NewString()), postgres.ErrNotClaimed)

		// Whatever body the dead request had: the key is free for another.
		claim("dead-other-body", "a-body-never-seen", time.Now().Add(-2*orders.IdempotencyLease))
		expectJSON(t, s.placeOrder(t, s.customer.Access, body, "dead-other-body"), http.StatusCreated)
		assert.EqualValues(t, 7, s.stockOf(t, id))
	})
}

// The same through a real first request that is still running (its
// reservation held up at the upstream catalog): a second request with the
// key is 409 conflict at once, and the first one then completes.
func TestOrders_IdempotencyKeyOfARunningRequestIsAConflict(t *testing.T) {
	t.Parallel()
	s := newShop(t, upstreamCatalog, nil)
	id := s.newProduct(t, 1_000, 10)
	body := orderOf(item(id, 2))
	entered, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.upstream.SetFault(func(_ http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost && r.URL.Path == "/reservations" {
			once.Do(func() { close(entered) })
			<-proceed
		}
		return false
	})
	first := make(chan response, 1)
	go func() {
		r, err := rawSend(s.BaseURL, req{Method: http.MethodPost, Path: "/api/orders", Token: s.customer.Access,
			Body: body, Header: map[string]string{"Idempotency-Key": "slow"}})
		if err != nil {
			r = response{Status: -1}
		}
		first <- r
	}()
	select {
	case <-entered:
	case <-time.After(15 * time.Second):
		t.Fatal("the first request never reached the reservation")
	}

	expectProblem(t, s.placeOrder(t, s.customer.Access, body, "slow"), http.StatusConflict, "conflict")
	s.upstream.SetFault(nil)
	close(proceed)
	r := <-first
	expectJSON(t, r, http.StatusCreated)
	again := s.placeOrder(t, s.customer.Access, body, "slow")
	expectJSON(t, again, http.StatusCreated)
	assert.Equal(t, asMap(t, r)["id"], asMap(t, again)["id"])
	assert.EqualValues(t, 8, s.stockOf(t, id))
}
