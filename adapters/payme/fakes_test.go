package payme_test

import (
	"context"
	"sync"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/payment"
)

// Function types that satisfy the handler's use case interfaces.
type (
	checkPerformFunc func(context.Context, payments.PaymeCheckPerformInput) error
	createFunc       func(context.Context, payments.PaymeCreateInput) (payments.PaymeResult, error)
	performFunc      func(context.Context, string) (payments.PaymeResult, error)
	cancelFunc       func(context.Context, string, payment.Reason) (payments.PaymeCancelResult, error)
	checkFunc        func(context.Context, string) (*payment.PaymeTransaction, error)
	statementFunc    func(context.Context, int64, int64) ([]*payment.PaymeTransaction, error)
	fiscalFunc       func(context.Context, payments.PaymeFiscalInput) error
)

func (f checkPerformFunc) Handle(ctx context.Context, in payments.PaymeCheckPerformInput) (payments.PaymeCheckPerformResult, error) {
	return payments.PaymeCheckPerformResult{}, f(ctx, in)
}

// checkPerformResult answers CheckPerformTransaction with a fixed result.
type checkPerformResult payments.PaymeCheckPerformResult

func (r checkPerformResult) Handle(context.Context, payments.PaymeCheckPerformInput) (payments.PaymeCheckPerformResult, error) {
	return payments.PaymeCheckPerformResult(r), nil
}

func (f createFunc) Handle(ctx context.Context, in payments.PaymeCreateInput) (payments.PaymeResult, error) {
	return f(ctx, in)
}

func (f performFunc) Handle(ctx context.Context, id string) (payments.PaymeResult, error) {
	return f(ctx, id)
}

func (f cancelFunc) Handle(ctx context.Context, id string, r payment.Reason) (payments.PaymeCancelResult, error) {
	return f(ctx, id, r)
}

func (f checkFunc) Handle(ctx context.Context, id string) (*payment.PaymeTransaction, error) {
	return f(ctx, id)
}

func (f statementFunc) Handle(ctx context.Context, from, to int64) ([]*payment.PaymeTransaction, error) {
	return f(ctx, from, to)
}

func (f fiscalFunc) Handle(ctx context.Context, in payments.PaymeFiscalInput) error {
	return f(ctx, in)
}

// recordedMetrics counts PaymentRecorded calls by outcome.
type recordedMetrics struct {
	mu       sync.Mutex
	provider map[string]int
	outcomes map[string]int
}

func newRecordedMetrics() *recordedMetrics {
	return &recordedMetrics{provider: map[string]int{}, outcomes: map[string]int{}}
}

func (m *recordedMetrics) PaymentRecorded(provider, outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.provider[provider]++
	m.outcomes[outcome]++
}

func (m *recordedMetrics) count(outcome string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.outcomes[outcome]
}
