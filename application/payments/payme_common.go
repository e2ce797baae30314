package payments

// Shared pieces of the Payme Merchant API use cases (payme_*.go).
//
// Each use case answers one JSON-RPC method. They return domain sentinels the
// Payme adapter maps to codes, in one table (adapters/payme):
//
//	ErrPaymeOrderNotFound                        -31050, data "order_id"
//	payment.ErrAmountMismatch                    -31001
//	payment.ErrNotFound                          -31003
//	payment.ErrCannotCancel                      -31007
//	order.ErrNotPayable, payment.ErrOrderHeld,
//	payment.ErrBadState, payment.ErrTimedOut,
//	payment.ErrAlreadyPaid, payment.ErrDuplicate -31008
//	ErrPaymeReceiptNotFound                      -32001 (SetFiscalData)
//	anything else                                -32400
//
// Locking follows the rule of every payment webhook: the order row first,
// then the Payme transaction row. Perform and Cancel learn the order of a
// transaction from a plain read before the database transaction, then lock
// the order, then the transaction; Check only reads.

import (
	"fmt"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
)

// PaymeAccountOrderID is the account field that names our order.
const PaymeAccountOrderID = "order_id"

var (
	// ErrPaymeOrderNotFound: the account's order_id is missing, not one of
	// our ids, or names no order (-31050, data "order_id").
	ErrPaymeOrderNotFound = fmt.Errorf("payme: account.order_id names no order: %w", order.ErrNotFound)
	// ErrPaymeReceiptNotFound: SetFiscalData for a Payme id we do not have (-32001).
	ErrPaymeReceiptNotFound = fmt.Errorf("payme: fiscal data for an unknown transaction: %w", payment.ErrNotFound)
)

// PaymeResult is a transaction as a Payme method left it. Changed is false
// when the call was a replay and the stored values are answered unchanged.
type PaymeResult struct {
	Tx      *payment.PaymeTransaction
	Changed bool
}

// paymeOrderID returns the order id in a Payme account in its canonical form
// (lower case, 36 characters), or false when it cannot be one of our ids.
func paymeOrderID(account map[string]string) (string, bool) {
	s, ok := account[PaymeAccountOrderID]
	if !ok {
		return "", false
	}
	return domain.ParseID(s)
}
