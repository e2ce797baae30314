package orders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// PlaceOrder turns the caller's items, or their cart, into an order awaiting
// payment, with the stock reserved.
type PlaceOrder struct {
	tx      ports.TxManager
	orders  ports.OrderRepository
	carts   ports.CartRepository
	keys    ports.IdempotencyStore
	catalog ports.Catalog
	ids     ports.IDGenerator
	clock   ports.Clock

	releaseAttempts int
	releasePause    time.Duration
	leaseRenewal    time.Duration

	// slots and maxUnpaid: ORDER_MAX_UNPAID (WithUnpaidLimit); nil is no limit.
	slots     ports.UnpaidOrderSlots
	maxUnpaid int

	events ports.OrderEvents // nil: events off
	// sellers and fiscalRequired: WithFiscal. Without sellers every line is
	// snapshot as if its seller had no profile.
	sellers        ports.SellerProfiles
	fiscalRequired bool
}

const (
	// DefaultReleaseAttempts is how many times PlaceOrder tries to give a
	// reservation back after the order could not be stored.
	DefaultReleaseAttempts = 4
	// DefaultReleasePause is the pause after the first failed release; it
	// doubles after each further failure, up to 400 ms.
	DefaultReleasePause = 50 * time.Millisecond
	maxReleasePause     = 400 * time.Millisecond
)

// NewPlaceOrder wires the use case.
func NewPlaceOrder(tx ports.TxManager, orders ports.OrderRepository, carts ports.CartRepository, keys ports.IdempotencyStore,
	catalog ports.Catalog, ids ports.IDGenerator, clock ports.Clock) *PlaceOrder {
	return &PlaceOrder{tx: tx, orders: orders, carts: carts, keys: keys, catalog: catalog, ids: ids, clock: clock,
		releaseAttempts: DefaultReleaseAttempts, releasePause: DefaultReleasePause, leaseRenewal: DefaultLeaseRenewal}
}

// WithLeaseRenewal sets how often a running request renews the lease of its
// Idempotency-Key (every > 0 and shorter than IdempotencyLease; invalid
// values keep DefaultLeaseRenewal). Tests shorten it.
func (uc *PlaceOrder) WithLeaseRenewal(every time.Duration) *PlaceOrder {
	if every > 0 && every < IdempotencyLease {
		uc.leaseRenewal = every
	}
	return uc
}

// WithReleaseRetry sets how many times a reservation is released in total
// after a failure (attempts ≥ 1) and the first pause between two tries
// (pause ≥ 0, doubled after each further failure up to 400 ms); invalid
// values keep the defaults.
func (uc *PlaceOrder) WithReleaseRetry(attempts int, pause time.Duration) *PlaceOrder {
	if attempts >= 1 {
		uc.releaseAttempts = attempts
	}
	if pause >= 0 {
		uc.releasePause = pause
	}
	return uc
}

// WithUnpaidLimit refuses an order (order.ErrTooManyUnpaid, before any
// stock is reserved) to a buyer who already holds limit unpaid orders:
// pending_payment ones and ones being placed, counted by slots in the
// database. slots nil or limit < 1 leaves the use case without a limit.
func (uc *PlaceOrder) WithUnpaidLimit(slots ports.UnpaidOrderSlots, limit int) *PlaceOrder {
	if slots == nil || limit < 1 {
		uc.slots, uc.maxUnpaid = nil, 0
		return uc
	}
	uc.slots, uc.maxUnpaid = slots, limit
	return uc
}

// WithEvents records the placed event of every order stored, in the
// order's transaction.
func (uc *PlaceOrder) WithEvents(events ports.OrderEvents) *PlaceOrder {
	uc.events = events
	return uc
}

// WithFiscal makes the order lines snapshot their sellers' profiles (read
// from sellers) and, when required (FISCAL_REQUIRED), refuses an order with
// a product that lacks its IKPU or package code: fiscal.ErrFiscalDataMissing
// (422 fiscal_data_missing) naming items[i].product_id, before any stock is
// reserved.
func (uc *PlaceOrder) WithFiscal(sellers ports.SellerProfiles, required bool) *PlaceOrder {
	uc.sellers, uc.fiscalRequired = sellers, required
	return uc
}

// ItemInput is one requested line; prices never come from the client.
type ItemInput struct {
	ProductID string
	Quantity  int64
}

// PlaceOrderInput is the buyer and the request. Items nil means "order my
// cart" (the body had no items field); a non-nil empty slice is an empty
// order and refused. IdempotencyKey "" means none was sent; RequestHash
// identifies the request body (at most 128 characters, e.g. hex SHA-256) and
// is computed from the other fields when left empty.
type PlaceOrderInput struct {
	Actor           user.Actor
	Items           []ItemInput
	ShippingAddress order.Address
	Note            string
	IdempotencyKey  string
	RequestHash     string
}

var (
	errKeyTooLong  error = domain.Invalid(IdempotencyKeyField, domain.MsgMaxChars, domain.Args{"Count": MaxIdempotencyKeyChars})
	errEmptyCart   error = domain.Invalid("items", domain.MsgCartEmpty)
	errTooManyIDs  error = domain.Invalid("items", domain.MsgMaxDistinctProducts, domain.Args{"Count": order.MaxItems})
	placeholderFee       = money.MustTiyin(1) // the price of a line without a product, while the rest is validated
)

// Handle places the order and reports whether it is a replay of an earlier
// request with the same Idempotency-Key (answered 201 with that order again,
// as it is now). Errors:
//   - a *domain.ValidationError (422): the key is over 255 characters (field
//     Idempotency-Key); no items and an empty cart (items); an unknown or
//     inactive product (items[i].product_id, i indexing the request's items,
//     or the cart's lines oldest first); any rule of order.New (quantities,
//     shipping_address.*, note);
//   - ErrIdempotencyKeyReused (409 idempotency_key_reused): the key came with
//     another body; ErrIdempotencyInProgress (409 conflict): its first request
//     is still running (its lease is alive); a conflict too when this request
//     lost its key to another after its lease ended;
//   - order.ErrTooManyUnpaid (409 too_many_unpaid_orders): the buyer holds
//     the most unpaid orders WithUnpaidLimit allows; nothing was reserved;
//   - a *product.InsufficientStockError (409 insufficient_stock);
//   - catalog unavailability (503 upstream_unavailable) and storage errors.
//
// Steps: prices come from one catalog Lookup; with a limit on unpaid orders,
// a short transaction takes one of the buyer's slots (holdSlot); the stock
// is reserved before the order's database transaction (never a call to the
// catalog inside one); then one transaction checks the limit again, stores
// the order, gives its slot up (the order now counts itself), empties the
// cart when the order was made from it, and completes the Idempotency-Key.
// When that transaction fails the reservation is released (see release:
// retried, and not cut short by the client going away) and so is the slot.
// A failure is never remembered under the key: the key is released, so a
// retry with it runs again.
func (uc *PlaceOrder) Handle(ctx context.Context, in PlaceOrderInput) (*order.Order, bool, error) {
	key := in.IdempotencyKey
	if utf8.RuneCountInString(key) > MaxIdempotencyKeyChars {
		return nil, false, errKeyTooLong
	}
	if key == "" {
		o, err := uc.place(ctx, in, "")
		return o, false, err
	}

	hash := in.RequestHash
	if hash == "" {
		hash = hashOf(in)
	}
	rec, claimed, err := uc.keys.Begin(ctx, in.Actor.ID, key, hash, uc.clock.Now(), IdempotencyTTL, IdempotencyLease)
	if err != nil {
		return nil, false, fmt.Errorf("claim Idempotency-Key of user %s: %w", in.Actor.ID, err)
	}
	if !claimed {
		o, err := uc.replay(ctx, rec, hash)
		return o, err == nil, err
	}
	stopRenewing := uc.keepLease(ctx, in.Actor.ID, key, rec.Claim)
	o, err := uc.place(ctx, in, rec.Claim)
	stopRenewing()
	if err != nil {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		return nil, false, alsoFailed(err, "releasing the Idempotency-Key", uc.keys.Release(cctx, in.Actor.ID, key, rec.Claim))
	}
	return o, false, nil
}

// keepLease renews the lease of the key's claim every leaseRenewal until the
// returned stop is called; stop waits for a renewal in flight, so none runs
// after the request has finished. A failed renewal is tried again at the
// next tick and does not stop the request: should the lease end meanwhile
// and another request take the key over, Complete finds the claim gone and
// the order is not stored. Renewing stops once the claim is known lost.
func (uc *PlaceOrder) keepLease(ctx context.Context, userID, key, claim string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(uc.leaseRenewal)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			err := uc.keys.Renew(ctx, userID, key, claim, uc.clock.Now().Add(IdempotencyLease))
			if errors.Is(err, domain.ErrConflict) {
				return
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// replay answers a key that another request claimed first.
func (uc *PlaceOrder) replay(ctx context.Context, rec ports.IdempotencyRecord, hash string) (*order.Order, error) {
	switch {
	case rec.RequestHash != hash:
		return nil, ErrIdempotencyKeyReused
	case rec.ResourceID == "":
		return nil, ErrIdempotencyInProgress
	}
	o, err := uc.orders.Get(ctx, rec.ResourceID)
	if err != nil {
		return nil, fmt.Errorf("load order %s of a replayed request: %w", rec.ResourceID, err)
	}
	return o, nil
}

// place makes the order; claim is the Idempotency-Key's claim ("" without a key).
func (uc *PlaceOrder) place(ctx context.Context, in PlaceOrderInput, claim string) (*order.Order, error) {
	userID := in.Actor.ID
	requested, fromCart, err := uc.requestedItems(ctx, in)
	if err != nil {
		return nil, err
	}
	o, err := uc.build(ctx, in, requested)
	if err != nil {
		return nil, err
	}
	if err := uc.holdSlot(ctx, o); err != nil {
		return nil, err
	}

	items := o.Items()
	hold := make([]ports.ReservationItem, len(items))
	for i, it := range items {
		hold[i] = ports.ReservationItem{ProductID: it.ProductID, Quantity: it.Quantity}
	}
	if err := uc.catalog.Reserve(ctx, o.ID(), hold, in.Actor); err != nil {
		err = fmt.Errorf("reserve stock for order %s: %w", o.ID(), err)
		if errors.Is(err, product.ErrInsufficientStock) {
			return nil, uc.dropSlot(ctx, o.ID(), err) // nothing was reserved: all or none
		}
		// The outcome is unknown (a timeout may have reserved upstream);
		// releasing is idempotent, so give back whatever may be held.
		return nil, uc.dropSlot(ctx, o.ID(), uc.release(ctx, o.ID(), in.Actor, err))
	}

	err = uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := uc.takeSlot(ctx, o); err != nil {
			return err
		}
		if err := uc.orders.Create(ctx, o); err != nil {
			return err
		}
		if err := recordEvent(ctx, uc.events, o); err != nil {
			return err
		}
		if fromCart {
			if err := uc.carts.Clear(ctx, userID); err != nil {
				return fmt.Errorf("empty the cart of user %s: %w", userID, err)
			}
		}
		if in.IdempotencyKey != "" {
			if err := uc.keys.Complete(ctx, userID, in.IdempotencyKey, claim, o.ID()); err != nil {
				return fmt.Errorf("complete Idempotency-Key of user %s: %w", userID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, uc.dropSlot(ctx, o.ID(), uc.release(ctx, o.ID(), in.Actor, err))
	}
	return o, nil
}

// holdSlot takes one of the buyer's unpaid-order slots for o before its
// stock is reserved, in a transaction of its own: the count and the hold
// happen under the buyer's lock (CountUnpaid), so of two placements that
// would both fill the last slot one waits for the other's hold and then
// finds no room. The hold is committed before the reservation (an outside
// call, never inside a transaction) and lives UnpaidHold, so a process that
// dies mid-placement frees the slot by itself.
func (uc *PlaceOrder) holdSlot(ctx context.Context, o *order.Order) error {
	if uc.slots == nil {
		return nil
	}
	now := uc.clock.Now()
	return uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		if err := uc.checkRoom(ctx, o, now); err != nil {
			return err
		}
		if err := uc.slots.Hold(ctx, o.UserID(), o.ID(), now, now.Add(UnpaidHold)); err != nil {
			return fmt.Errorf("hold an unpaid-order slot for order %s: %w", o.ID(), err)
		}
		return nil
	})
}

// takeSlot runs in the order's transaction: it checks the limit again under
// the buyer's lock and turns o's placement into the order (the placement is
// dropped; the stored order counts itself). The first check makes this one
// pass in practice; it only refuses when a hold outlived UnpaidHold (a
// placement slower than that, whose slot the count forgot), and then the
// limit still holds, at the price of a reservation made and given back.
func (uc *PlaceOrder) takeSlot(ctx context.Context, o *order.Order) error {
	if uc.slots == nil {
		return nil
	}
	if err := uc.checkRoom(ctx, o, uc.clock.Now()); err != nil {
		return err
	}
	if err := uc.slots.Drop(ctx, o.ID()); err != nil {
		return fmt.Errorf("turn the placement of order %s into the order: %w", o.ID(), err)
	}
	return nil
}

// checkRoom counts the buyer's unpaid orders other than o, under the
// buyer's lock, and refuses o when they already fill the limit.
func (uc *PlaceOrder) checkRoom(ctx context.Context, o *order.Order, now time.Time) error {
	n, err := uc.slots.CountUnpaid(ctx, o.UserID(), o.ID(), now)
	if err != nil {
		return fmt.Errorf("count unpaid orders of user %s: %w", o.UserID(), err)
	}
	if err := order.CheckRoomForUnpaid(n, uc.maxUnpaid); err != nil {
		return fmt.Errorf("place order for user %s: %w", o.UserID(), err)
	}
	return nil
}

// dropSlot gives o's slot back after err, on a context detached from the
// request's cancellation like release. A drop that fails leaves the slot
// held until its hold ends (UnpaidHold); it is reported with err.
func (uc *PlaceOrder) dropSlot(ctx context.Context, orderID string, err error) error {
	if uc.slots == nil {
		return err
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	return alsoFailed(err, "giving back the unpaid-order slot of order "+orderID, uc.slots.Drop(cctx, orderID))
}

// release gives the order's reservation back after err. It runs on a
// context detached from the request's cancellation (cleanupContext: the
// request's values, a timeout of its own), so a client hanging up does not
// leave the stock held, and it is tried up to releaseAttempts times with a
// doubling pause (50, 100, 200 ms by default): the failure that broke the
// order's transaction — a connection killed, Postgres or the upstream
// catalog restarting — usually breaks a release made at once too. Release
// is idempotent, so trying again is always safe; an error that says the
// request itself is wrong (validation, not found, forbidden) is not retried.
//
// A release that still fails is reported with err and leaves the stock held
// for an order that does not exist: with the built-in catalog the orphan
// sweep (Catalog.ReleaseOrphans, run by the app) gives it back later; an
// upstream catalog owns its reservations.
func (uc *PlaceOrder) release(ctx context.Context, orderID string, c user.Actor, err error) error {
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	return alsoFailed(err, "releasing the stock of order "+orderID, uc.releaseWithRetry(cctx, orderID, c))
}

func (uc *PlaceOrder) releaseWithRetry(ctx context.Context, orderID string, c user.Actor) error {
	pause := uc.releasePause
	for attempt := 1; ; attempt++ {
		err := uc.catalog.Release(ctx, orderID, c)
		if err == nil {
			return nil
		}
		if attempt >= uc.releaseAttempts || !worthRetrying(err) {
			return fmt.Errorf("attempt %d of %d: %w", attempt, uc.releaseAttempts, err)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("attempt %d of %d, then %w: %w", attempt, uc.releaseAttempts, ctx.Err(), err)
		case <-t.C:
		}
		pause = min(2*pause, maxReleasePause)
	}
}

// worthRetrying tells a failure that may pass (unavailable, timed out,
// anything unknown) from an answer that will not change.
func worthRetrying(err error) bool {
	for _, final := range []error{domain.ErrValidation, domain.ErrNotFound, domain.ErrForbidden, domain.ErrUnauthorized} {
		if errors.Is(err, final) {
			return false
		}
	}
	return true
}

// requestedItems returns the request's items, or the cart's lines when the
// request has none.
func (uc *PlaceOrder) requestedItems(ctx context.Context, in PlaceOrderInput) (items []ItemInput, fromCart bool, err error) {
	if in.Items != nil {
		if len(in.Items) == 0 {
			return nil, false, order.ErrEmpty
		}
		return in.Items, false, nil
	}
	lines, err := uc.carts.Lines(ctx, in.Actor.ID)
	if err != nil {
		return nil, false, err
	}
	if len(lines) == 0 {
		return nil, true, errEmptyCart
	}
	items = make([]ItemInput, len(lines))
	for i, l := range lines {
		items[i] = ItemInput{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	return items, true, nil
}

// build prices the requested items with one catalog lookup and makes the
// order, reporting every invalid field at once.
func (uc *PlaceOrder) build(ctx context.Context, in PlaceOrderInput, requested []ItemInput) (*order.Order, error) {
	ids := make([]string, 0, len(requested))
	seen := make(map[string]bool, len(requested))
	for _, r := range requested {
		if r.ProductID != "" && !seen[r.ProductID] {
			seen[r.ProductID] = true
			ids = append(ids, r.ProductID)
		}
	}
	if len(ids) > order.MaxItems {
		return nil, errTooManyIDs // before asking the catalog about them all
	}
	byID := make(map[string]*product.Product, len(ids))
	if len(ids) > 0 {
		products, err := uc.catalog.Lookup(ctx, ids, in.Actor)
		if err != nil {
			return nil, fmt.Errorf("price order items: %w", err)
		}
		for _, p := range products {
			if p != nil {
				byID[p.ID()] = p
			}
		}
	}

	profiles, err := uc.sellerProfiles(ctx, byID)
	if err != nil {
		return nil, err
	}

	verr, missing := &domain.ValidationError{}, &domain.ValidationError{}
	items := make([]order.Item, len(requested))
	for i, r := range requested {
		it := order.Item{ProductID: r.ProductID, Quantity: r.Quantity, UnitPrice: placeholderFee}
		field := fmt.Sprintf("items[%d].product_id", i)
		switch p := byID[r.ProductID]; {
		case r.ProductID == "": // order.New names it
		case p == nil || !p.Active():
			verr.Add(field, domain.MsgUnknownProduct)
		default:
			it.Name, it.UnitPrice = p.Name(), p.Price()
			if uc.fiscalRequired && !p.Fiscal().Complete() {
				missing.Add(field, "the product has no ikpu_code or package_code")
			}
			it.Fiscal = snapshot(p, r.Quantity, profiles)
		}
		items[i] = it
	}
	o, err := order.New(uc.ids.NewID(), in.Actor.ID, items, in.ShippingAddress, in.Note, uc.clock.Now())
	if err := verr.Merge(err); err != nil {
		return nil, err
	}
	if err := verr.OrNil(); err != nil {
		return nil, err
	}
	if err := missing.OrNil(); err != nil {
		return nil, fmt.Errorf("%w: %w", fiscal.ErrFiscalDataMissing, err)
	}
	return o, nil
}

// sellerProfiles reads the profiles of the products' sellers (none without
// WithFiscal).
func (uc *PlaceOrder) sellerProfiles(ctx context.Context, byID map[string]*product.Product) (map[string]fiscal.SellerProfile, error) {
	if uc.sellers == nil || len(byID) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(byID))
	seen := make(map[string]bool, len(byID))
	for _, p := range byID {
		if s := p.SellerID(); s != "" && !seen[s] {
			seen[s] = true
			ids = append(ids, s)
		}
	}
	profiles, err := uc.sellers.SellerProfilesOf(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read seller profiles: %w", err)
	}
	return profiles, nil
}

// snapshot is the fiscal snapshot of a line of p; a line that cannot be
// priced gets none, and order.New names what is wrong with it.
func snapshot(p *product.Product, quantity int64, profiles map[string]fiscal.SellerProfile) fiscal.Line {
	d := fiscal.LineDraft{Name: p.Name(), UnitPrice: p.Price(), Quantity: quantity, Product: p.Fiscal()}
	if prof, ok := profiles[p.SellerID()]; ok {
		d.Seller = &prof
	}
	line, err := fiscal.NewLine(d)
	if err != nil {
		return fiscal.Line{}
	}
	return line
}

// hashOf identifies a request by its meaning, for callers that pass no
// RequestHash.
func hashOf(in PlaceOrderInput) string {
	b, _ := json.Marshal(struct { // plain strings and numbers: cannot fail
		Items   []ItemInput
		Address order.Address
		Note    string
	}{in.Items, in.ShippingAddress, in.Note})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
