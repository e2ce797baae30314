package ports

//go:generate go run github.com/golang/mock/mockgen -source=outbox.go -destination=mocks/outbox.go -package=mocks

import (
	"context"
	"errors"
	"time"
)

// OutboxKind is one kind of outbox work. Each kind has its own relay, and
// the rows of one aggregate are handled in order within a kind only, so a
// stuck receipt never holds back an event.
type OutboxKind string

const (
	// OutboxEvent is a domain event published to NATS JetStream.
	OutboxEvent OutboxKind = "event"
	// OutboxClickReceipt is a fiscal receipt to submit to Click's Merchant API.
	OutboxClickReceipt OutboxKind = "click_receipt"
)

// OutboxKinds lists every kind, so a backlog report can show the empty ones.
func OutboxKinds() []OutboxKind { return []OutboxKind{OutboxEvent, OutboxClickReceipt} }

// OutboxMessage is one unit of outbox work: what to send, and about which
// aggregate.
type OutboxMessage struct {
	ID          string // UUID; also the event id and the Nats-Msg-Id, so a re-send is recognised
	Kind        OutboxKind
	AggregateID string // UUID of the order it is about
	Subject     string // NATS subject, e.g. ultramarket.order.paid
	Payload     []byte // the exact bytes to send
	CreatedAt   time.Time
}

// ClaimedMessage is a message held by a claim, with the number of earlier
// failed attempts (for the retry backoff).
type ClaimedMessage struct {
	OutboxMessage
	Seq      int64
	Attempts int
}

// OutboxClaim is a set of messages leased to one relay until Until. Token
// identifies the claim: only its holder may release the messages or record
// their failure, so a relay whose lease ran out cannot undo the work of the
// one that took over.
type OutboxClaim struct {
	Token    string
	Until    time.Time
	Messages []ClaimedMessage // in seq order, at most one per aggregate
}

// OutboxFailure records a failed attempt: the message is tried again from
// RetryAt on; Reason is short and holds no secret.
type OutboxFailure struct {
	ID      string
	RetryAt time.Time
	Reason  string
}

// OutboxBacklog is the work of one kind not done yet.
type OutboxBacklog struct {
	Kind            OutboxKind
	Pending         int64
	OldestCreatedAt time.Time // zero when Pending is 0
}

// Outbox stores outbox messages and hands them to relays. Messages of one
// kind and aggregate are handed out strictly one after the other, in the
// order their transactions committed.
type Outbox interface {
	// Append stores msg in the transaction ctx carries, so it exists if and
	// only if that transaction commits. Without a transaction it refuses.
	Append(ctx context.Context, msg OutboxMessage) error
	// Claim leases up to limit messages of kind that are available at now,
	// not leased by another claim, and whose earlier messages of the same
	// aggregate are all done, until now+lease. It commits the lease before
	// returning (no transaction stays open: the caller may call out next) and
	// refuses to run inside a transaction. An empty claim is not an error.
	Claim(ctx context.Context, kind OutboxKind, limit int, now time.Time, lease time.Duration) (OutboxClaim, error)
	// MarkDone records that the messages were sent, whoever holds their lease
	// now: a message sent is done, whichever relay sent it.
	MarkDone(ctx context.Context, ids []string, now time.Time) error
	// MarkFailed frees the messages of the claim token for a later attempt
	// (attempts+1, available from RetryAt, last error Reason). Messages the
	// token no longer holds are left alone.
	MarkFailed(ctx context.Context, token string, failures []OutboxFailure) error
	// Release frees messages of the claim token that were not attempted,
	// without counting an attempt.
	Release(ctx context.Context, token string, ids []string) error
	// Backlog reports, for every kind, how many messages are not done and
	// when the oldest of them was created.
	Backlog(ctx context.Context) ([]OutboxBacklog, error)
	// PurgeDone deletes up to limit messages done before before and returns
	// how many it deleted.
	PurgeDone(ctx context.Context, before time.Time, limit int) (int, error)
}

// ErrPublishRejected marks a publish the broker refused for this message
// (too large, a subject no stream takes): the broker answered, so the other
// messages of a batch may still go. Any other publish error means the broker
// could not be reached or did not answer in time.
var ErrPublishRejected = errors.New("publish rejected")

// EventPublisher publishes a domain event and returns once the broker has
// stored it. Publishing the same message ID again within the broker's
// duplicate window stores nothing new. Errors wrap domain.ErrUnavailable;
// a refusal of this one message also wraps ErrPublishRejected.
type EventPublisher interface {
	Publish(ctx context.Context, msg OutboxMessage) error
}
