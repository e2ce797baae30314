package payme

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/payment"
)

// methods is the Merchant API: one entry per method Payme may call, and the
// only list of them. An entry decodes the method's params and runs its use
// case; adding a method is adding its entry (and its use case to UseCases).
// A name not here is answered -32601: ChangePassword (legacy) among them,
// since key rotation is done in config.
func methods(uc UseCases, log *slog.Logger) map[string]method {
	return map[string]method{
		"CheckPerformTransaction": {decode: bind(uc.CheckPerformTransaction, decodeCheckPerform, nil,
			CheckPerformer.Handle,
			func(_ context.Context, _ payments.PaymeCheckPerformInput, res payments.PaymeCheckPerformResult) (any, string) {
				out := allowResult{Allow: true}
				if res.HasDetail {
					d := NewFiscalDetail(res.Detail)
					out.Detail = &d
				}
				return out, OutcomeAllowed
			})},

		"CreateTransaction": {decode: bind(uc.CreateTransaction, decodeCreate,
			func(in payments.PaymeCreateInput) string { return in.PaymeID }, Creator.Handle,
			func(_ context.Context, _ payments.PaymeCreateInput, res payments.PaymeResult) (any, string) {
				t := res.Tx
				return createResult{CreateTime: t.CreateTime(), Transaction: t.ID(), State: int(t.State())},
					changedOutcome(res.Changed, OutcomeCreated)
			})},

		"PerformTransaction": {decode: bind(uc.PerformTransaction, decodeID, paymeIDOf, Performer.Handle,
			func(_ context.Context, _ string, res payments.PaymeResult) (any, string) {
				t := res.Tx
				return performResult{Transaction: t.ID(), PerformTime: t.PerformTime(), State: int(t.State())},
					changedOutcome(res.Changed, OutcomePerformed)
			})},

		"CancelTransaction": {decode: bind(uc.CancelTransaction, decodeCancel,
			func(in cancelParams) string { return in.id },
			func(u Canceller, ctx context.Context, in cancelParams) (payments.PaymeCancelResult, error) {
				return u.Handle(ctx, in.id, in.reason)
			},
			func(ctx context.Context, in cancelParams, res payments.PaymeCancelResult) (any, string) {
				if res.StockReleaseErr != nil {
					// The refund stands; the stock needs a hand.
					log.ErrorContext(ctx, "payme refund: stock not released", "payme_id", in.id,
						"order_id", res.Tx.OrderID(), "err", res.StockReleaseErr)
				}
				t := res.Tx
				outcome := OutcomeCancelled
				if t.State() == payment.PaymeCancelledAfterPerform {
					outcome = OutcomeRefunded
				}
				return cancelResult{Transaction: t.ID(), CancelTime: t.CancelTime(), State: int(t.State())},
					changedOutcome(res.Changed, outcome)
			})},

		"CheckTransaction": {decode: bind(uc.CheckTransaction, decodeID, paymeIDOf, Checker.Handle,
			func(_ context.Context, _ string, t *payment.PaymeTransaction) (any, string) {
				return checkResultOf(t), OutcomeChecked
			})},

		"GetStatement": {decode: bind(uc.GetStatement, decodeStatement, nil,
			func(u Statementer, ctx context.Context, in statementParams) ([]*payment.PaymeTransaction, error) {
				return u.Handle(ctx, in.from, in.to)
			},
			func(_ context.Context, _ statementParams, txs []*payment.PaymeTransaction) (any, string) {
				out := statementResult{Transactions: make([]statementTx, 0, len(txs))}
				for _, t := range txs {
					account := t.Account()
					if account == nil {
						account = map[string]string{}
					}
					out.Transactions = append(out.Transactions, statementTx{
						ID: t.PaymeID(), Time: t.PaymeTime(), Amount: t.Amount().Tiyin(), Account: account,
						checkResult: checkResultOf(t),
					})
				}
				return out, OutcomeStatement
			})},

		// Payme documents -32602 for SetFiscalData's bad params, and so for
		// a receipt its use case finds invalid.
		"SetFiscalData": {validationCode: CodeInvalidParams, decode: bind(uc.SetFiscalData, decodeFiscal,
			func(in payments.PaymeFiscalInput) string { return in.PaymeID },
			func(u FiscalSetter, ctx context.Context, in payments.PaymeFiscalInput) (struct{}, error) {
				return struct{}{}, u.Handle(ctx, in)
			},
			func(context.Context, payments.PaymeFiscalInput, struct{}) (any, string) {
				return successResult{Success: true}, OutcomeFiscal
			})},
	}
}

// method is one entry of the table.
type method struct {
	// decode reads the params strictly and returns the call, ready to run.
	decode func(p params) (call, *rpcError)
	// validationCode, when not 0, answers a validation error from the use
	// case; otherwise errorFor's mapping decides alone.
	validationCode int
}

// params are a request's params, as decodeEnvelope found them.
type params = map[string]json.RawMessage

// call is a request whose params decoded.
type call struct {
	paymeID string // the Payme transaction it is about, for the log; "" for none
	// run calls the use case and shapes its result as SPEC §2.4–2.10 shows;
	// nil when the use case is not wired (answered -32601).
	run func(ctx context.Context) (result any, outcome string, err error)
}

// bind makes the decode of a method: its params decode into In, its use case
// uc (nil: not wired) is called by run, and answer shapes what it returned
// into the result and its outcome. paymeID names the transaction for the
// log (nil: none).
func bind[U, In, R any](uc U, decode func(params) (In, *rpcError), paymeID func(In) string,
	run func(uc U, ctx context.Context, in In) (R, error),
	answer func(ctx context.Context, in In, r R) (result any, outcome string)) func(params) (call, *rpcError) {
	wired := any(uc) != nil
	return func(p params) (call, *rpcError) {
		in, e := decode(p)
		if e != nil {
			return call{}, e
		}
		var c call
		if paymeID != nil {
			c.paymeID = paymeID(in)
		}
		if wired {
			c.run = func(ctx context.Context) (any, string, error) {
				r, err := run(uc, ctx, in)
				if err != nil {
					return nil, "", err
				}
				result, outcome := answer(ctx, in, r)
				return result, outcome, nil
			}
		}
		return c, nil
	}
}

func paymeIDOf(id string) string { return id }

// The result shapes, field order as Payme's documentation shows them.
type (
	allowResult struct {
		Allow  bool          `json:"allow"`
		Detail *FiscalDetail `json:"detail,omitempty"` // the order's receipt, when its lines have full fiscal data
	}
	createResult struct {
		CreateTime  int64  `json:"create_time"`
		Transaction string `json:"transaction"`
		State       int    `json:"state"`
	}
	performResult struct {
		Transaction string `json:"transaction"`
		PerformTime int64  `json:"perform_time"`
		State       int    `json:"state"`
	}
	cancelResult struct {
		Transaction string `json:"transaction"`
		CancelTime  int64  `json:"cancel_time"`
		State       int    `json:"state"`
	}
	checkResult struct {
		CreateTime  int64  `json:"create_time"`
		PerformTime int64  `json:"perform_time"`
		CancelTime  int64  `json:"cancel_time"`
		Transaction string `json:"transaction"`
		State       int    `json:"state"`
		Reason      *int   `json:"reason"`
	}
	statementResult struct {
		Transactions []statementTx `json:"transactions"`
	}
	// statementTx is what GetStatement says of a transaction: Payme's own
	// fields, then CheckTransaction's (embedded, so in this position), then
	// the receivers.
	statementTx struct {
		ID      string            `json:"id"`
		Time    int64             `json:"time"`
		Amount  int64             `json:"amount"`
		Account map[string]string `json:"account"`
		checkResult
		Receivers []struct{} `json:"receivers"` // always null: we are the only receiver
	}
	successResult struct {
		Success bool `json:"success"`
	}
)

func checkResultOf(t *payment.PaymeTransaction) checkResult {
	var reason *int
	if r := t.Reason(); r != nil {
		n := int(*r)
		reason = &n
	}
	return checkResult{CreateTime: t.CreateTime(), PerformTime: t.PerformTime(), CancelTime: t.CancelTime(),
		Transaction: t.ID(), State: int(t.State()), Reason: reason}
}

func changedOutcome(changed bool, outcome string) string {
	if changed {
		return outcome
	}
	return OutcomeReplayed
}
