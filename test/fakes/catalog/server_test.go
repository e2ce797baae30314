package catalog_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakecatalog "github.com/ultramarket/gateway/test/fakes/catalog"
)

// The inspection helpers end-to-end tests rely on.
func TestSeedAndInspect(t *testing.T) {
	fake := fakecatalog.New()
	t.Cleanup(fake.Close)
	p := fake.Seed(fakecatalog.Product{Name: "Non", Category: "bakery", Price: 500_000, Stock: 4, SellerID: uuid.NewString(), Active: true})
	require.NotEmpty(t, p.ID)
	assert.Equal(t, "UZS", p.Currency)

	order := uuid.NewString()
	body := `{"order_id":"` + order + `","items":[{"product_id":"` + p.ID + `","quantity":3}]}`
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, fake.URL()+"/reservations", bytes.NewBufferString(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, map[string]int64{p.ID: 3}, fake.Reservation(order))
	stored, ok := fake.Product(p.ID)
	require.True(t, ok)
	assert.Equal(t, int64(1), stored.Stock)
	assert.Equal(t, 1, fake.Calls("POST /reservations"))

	req, _ = http.NewRequestWithContext(context.Background(), http.MethodDelete, fake.URL()+"/reservations/"+order, nil)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Nil(t, fake.Reservation(order))
	stored, _ = fake.Product(p.ID)
	assert.Equal(t, int64(4), stored.Stock)
}
