package click

import (
	"bytes"
	"context"
	"crypto/sha1" //nolint:gosec // G505, G401: SHA-1 is what Click's Merchant API authenticates with (shared/payments/SPEC.md)
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// Merchant API defaults (SPEC §7).
const (
	DefaultMerchantAPIURL  = "https://api.click.uz/v2/merchant/"
	DefaultMerchantTimeout = 10 * time.Second
	maxMerchantResponse    = 1 << 20
)

// MerchantConfig configures the Merchant API client.
type MerchantConfig struct {
	BaseURL        string // default DefaultMerchantAPIURL
	ServiceID      string
	MerchantUserID string
	SecretKey      string
	Timeout        time.Duration    // per call; default DefaultMerchantTimeout
	HTTPClient     *http.Client     // default: a plain client (the per-call timeout bounds it)
	Now            func() time.Time // default time.Now; the Auth header's timestamp
}

// MerchantClient calls Click's Merchant API: what Click thinks happened to a
// payment, reversing one, and its fiscal receipt. It implements
// ports.ClickMerchant.
type MerchantClient struct {
	base    *url.URL
	cfg     MerchantConfig
	http    *http.Client
	timeout time.Duration
	now     func() time.Time
}

var _ ports.ClickMerchant = (*MerchantClient)(nil)

// APIError is Click refusing a call: a non-zero error_code in the body, or
// an HTTP error status with no such body.
type APIError struct {
	Op     string
	Status int // HTTP status
	Code   int // error_code; 0 when the body had none
	Note   string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("click merchant api %s: HTTP %d, error_code %d %q", e.Op, e.Status, e.Code, e.Note)
}

// NewMerchantClient checks cfg and fills in the defaults.
func NewMerchantClient(cfg MerchantConfig) (*MerchantClient, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultMerchantAPIURL
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("click merchant api: base URL %q must be an absolute http(s) URL", cfg.BaseURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/" // so relative paths resolve below it
	}
	c := &MerchantClient{base: base, cfg: cfg, http: cfg.HTTPClient, timeout: cfg.Timeout, now: cfg.Now}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultMerchantTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// merchantAuth is the Auth header: {merchant_user_id}:{sha1(timestamp +
// secret_key) in lowercase hex}:{timestamp in Unix seconds}.
func merchantAuth(merchantUserID, secret string, now time.Time) string {
	ts := strconv.FormatInt(now.Unix(), 10)
	sum := sha1.Sum([]byte(ts + secret)) //nolint:gosec // G505, G401: SHA-1 is what Click's Merchant API authenticates with (shared/payments/SPEC.md)
	return merchantUserID + ":" + hex.EncodeToString(sum[:]) + ":" + ts
}

// statusBody is every answer's shape; each operation fills some fields.
type statusBody struct {
	ErrorCode     int    `json:"error_code"`
	ErrorNote     string `json:"error_note"`
	PaymentID     int64  `json:"payment_id"`
	PaymentStatus *int   `json:"payment_status"`
}

// PaymentStatus asks Click about payment paymentID (Click's click_trans_id).
func (c *MerchantClient) PaymentStatus(ctx context.Context, paymentID int64) (ports.ClickPaymentStatus, error) {
	var b statusBody
	if err := c.call(ctx, "payment status", http.MethodGet, []string{"payment", "status", c.cfg.ServiceID, strconv.FormatInt(paymentID, 10)}, nil, &b); err != nil {
		return ports.ClickPaymentStatus{}, err
	}
	if b.PaymentStatus == nil {
		return ports.ClickPaymentStatus{}, fmt.Errorf("click merchant api payment status %d: no payment_status in the answer", paymentID)
	}
	return ports.ClickPaymentStatus{PaymentID: b.PaymentID, Status: *b.PaymentStatus}, nil
}

// PaymentStatusByMerchantTransID finds the payment of our order id made on
// day (Click counts days in Asia/Tashkent; pass day in that zone). That
// answer carries no status, so the payment is then asked about by its id.
// Click refusing the question (an error_code, such as "payment not found")
// wraps domain.ErrNotFound.
func (c *MerchantClient) PaymentStatusByMerchantTransID(ctx context.Context, merchantTransID string, day time.Time) (ports.ClickPaymentStatus, error) {
	var b statusBody
	err := c.call(ctx, "payment status by merchant_trans_id", http.MethodGet,
		[]string{"payment", "status_by_mti", c.cfg.ServiceID, merchantTransID, day.Format(time.DateOnly)}, nil, &b)
	var refused *APIError
	if errors.As(err, &refused) && refused.Status == http.StatusOK {
		// Click answered, with an error_code: it has no payment of that id
		// that day (Click documents no codes, so any refusal reads so).
		return ports.ClickPaymentStatus{}, fmt.Errorf("%w: %w", domain.ErrNotFound, err)
	}
	if err != nil {
		return ports.ClickPaymentStatus{}, err
	}
	if b.PaymentStatus != nil {
		return ports.ClickPaymentStatus{PaymentID: b.PaymentID, Status: *b.PaymentStatus}, nil
	}
	if b.PaymentID <= 0 {
		return ports.ClickPaymentStatus{}, fmt.Errorf("click merchant api payment status of %q: no payment_id in the answer", merchantTransID)
	}
	return c.PaymentStatus(ctx, b.PaymentID)
}

// Reverse cancels payment paymentID at Click, giving the buyer the money back.
// Click declining it (HTTP 200 with a non-zero error_code, the form of its
// business refusals) is a *payment.RefusalError in the chain, beside the
// *APIError: the refund use case shows the admin Click's note.
func (c *MerchantClient) Reverse(ctx context.Context, paymentID int64) error {
	var b statusBody
	err := c.call(ctx, "reversal", http.MethodDelete, []string{"payment", "reversal", c.cfg.ServiceID, strconv.FormatInt(paymentID, 10)}, nil, &b)
	var api *APIError
	if errors.As(err, &api) && api.Status == http.StatusOK && api.Code != 0 {
		return fmt.Errorf("%w: %w", &payment.RefusalError{Code: api.Code, Note: api.Note}, err)
	}
	return err
}

// submitItemsBody is payment/ofd_data/submit_items' body (FISCAL.md §3).
type submitItemsBody struct {
	ServiceID     int64            `json:"service_id"`
	PaymentID     int64            `json:"payment_id"`
	Items         []submitItemBody `json:"items"`
	ReceivedECash int64            `json:"received_ecash"`
	ReceivedCash  int64            `json:"received_cash"`
	ReceivedCard  int64            `json:"received_card"`
}

// submitItemBody is one item; Click spells its fields in PascalCase. Units is
// left out when the product has no unit code, rather than sent as 0, which
// is no unit.
type submitItemBody struct {
	Name           string             `json:"Name"`
	SPIC           string             `json:"SPIC"`
	PackageCode    string             `json:"PackageCode"`
	Units          int                `json:"Units,omitempty"`
	GoodPrice      int64              `json:"GoodPrice"`
	Price          int64              `json:"Price"`
	Amount         int64              `json:"Amount"`
	VAT            int64              `json:"VAT"`
	VATPercent     int                `json:"VATPercent"`
	CommissionInfo commissionInfoBody `json:"CommissionInfo"`
}

// commissionInfoBody carries exactly one of the two numbers.
type commissionInfoBody struct {
	TIN   string `json:"TIN,omitempty"`
	PINFL string `json:"PINFL,omitempty"`
}

func newSubmitItemsBody(serviceID, paymentID int64, sub fiscal.ClickSubmission) submitItemsBody {
	b := submitItemsBody{
		ServiceID: serviceID, PaymentID: paymentID, Items: make([]submitItemBody, 0, len(sub.Items)),
		ReceivedECash: sub.ReceivedECash.Tiyin(), ReceivedCash: sub.ReceivedCash.Tiyin(), ReceivedCard: sub.ReceivedCard.Tiyin(),
	}
	for _, it := range sub.Items {
		b.Items = append(b.Items, submitItemBody{
			Name: it.Name, SPIC: it.SPIC, PackageCode: it.PackageCode, Units: it.Units,
			GoodPrice: it.GoodPrice.Tiyin(), Price: it.Price.Tiyin(), Amount: it.Amount,
			VAT: it.VAT.Tiyin(), VATPercent: it.VATPercent,
			CommissionInfo: commissionInfoBody{TIN: it.Commission.TIN, PINFL: it.Commission.PINFL},
		})
	}
	return b
}

// SubmitFiscalItems sends the items of payment paymentID (click_paydoc_id)
// for Click to print its sale receipt. Click refusing them (a non-zero
// error_code) is an *APIError; the receipt itself is read with FiscalData.
// Nothing is retried here: the receipt worker reads FiscalData before trying
// again, so a submission that Click took but whose answer was lost is not
// sent twice.
func (c *MerchantClient) SubmitFiscalItems(ctx context.Context, paymentID int64, items fiscal.ClickSubmission) error {
	serviceID, err := strconv.ParseInt(c.cfg.ServiceID, 10, 64)
	if err != nil || serviceID <= 0 {
		return fmt.Errorf("click merchant api submit items: service id %q is not a positive integer", c.cfg.ServiceID)
	}
	if paymentID <= 0 || len(items.Items) == 0 {
		return fmt.Errorf("click merchant api submit items for payment %d: %w", paymentID, domain.ErrValidation)
	}
	body, err := json.Marshal(newSubmitItemsBody(serviceID, paymentID, items))
	if err != nil {
		return fmt.Errorf("click merchant api submit items: %w", err)
	}
	var b statusBody
	return c.call(ctx, "submit fiscal items", http.MethodPost, []string{"payment", "ofd_data", "submit_items"}, body, &b)
}

// fiscalDataBody is payment/ofd_data's answer: {paymentId, qrCodeURL} with a
// receipt, and (Click documents no other form, FISCAL.md §5.9) an error_code
// or an empty link without one.
type fiscalDataBody struct {
	ErrorCode int     `json:"error_code"`
	ErrorNote string  `json:"error_note"`
	PaymentID int64   `json:"paymentId"`
	QRCodeURL *string `json:"qrCodeURL"`
}

// FiscalData reads the receipt link of payment paymentID. An answer without
// a link, or with a non-zero error_code, is "no receipt yet": a result with
// an empty QRCodeURL, not an error, so the caller can tell it from Click
// being unreachable (domain.ErrUnavailable) or refusing us (*APIError for an
// HTTP error status).
func (c *MerchantClient) FiscalData(ctx context.Context, paymentID int64) (ports.ClickFiscalData, error) {
	var b fiscalDataBody
	env, err := c.exchange(ctx, "fiscal data", http.MethodGet,
		[]string{"payment", "ofd_data", c.cfg.ServiceID, strconv.FormatInt(paymentID, 10)}, nil, &b)
	if err != nil {
		return ports.ClickFiscalData{}, err
	}
	out := ports.ClickFiscalData{PaymentID: paymentID}
	if env.ErrorCode != 0 {
		out.Note = env.ErrorNote
		return out, nil
	}
	if b.PaymentID != 0 && b.PaymentID != paymentID {
		return ports.ClickFiscalData{}, fmt.Errorf("click merchant api fiscal data %d: the answer is about payment %d", paymentID, b.PaymentID)
	}
	if b.QRCodeURL != nil && strings.TrimSpace(*b.QRCodeURL) != "" {
		out.QRCodeURL = *b.QRCodeURL // as sent: what may be shown is decided in the domain
	}
	return out, nil
}

// envelope is what every answer may carry besides its own fields.
type envelope struct {
	ErrorCode int    `json:"error_code"`
	ErrorNote string `json:"error_note"`
}

// call is exchange for the operations where a non-zero error_code is Click
// refusing the call: it becomes an *APIError.
func (c *MerchantClient) call(ctx context.Context, op, method string, segments []string, body []byte, out any) error {
	env, err := c.exchange(ctx, op, method, segments, body, out)
	if err != nil {
		return err
	}
	if env.ErrorCode != 0 {
		return &APIError{Op: op, Status: http.StatusOK, Code: env.ErrorCode, Note: env.ErrorNote}
	}
	return nil
}

// exchange performs one request within the per-call timeout and decodes a
// 2xx answer into out (unless it carries a non-zero error_code), returning
// its error_code and error_note for the caller to judge. segments are escaped one by one, so an id cannot add path levels.
// No answer, a 5xx or an unreadable body is domain.ErrUnavailable; another
// HTTP error status is an *APIError.
func (c *MerchantClient) exchange(ctx context.Context, op, method string, segments []string, body []byte, out any) (envelope, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	target := c.base.Scheme + "://" + c.base.Host + c.base.EscapedPath() + strings.Join(escaped, "/")

	var reqBody io.Reader
	if body != nil {
		reqBody = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reqBody)
	if err != nil {
		return envelope{}, fmt.Errorf("click merchant api %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Auth", merchantAuth(c.cfg.MerchantUserID, c.cfg.SecretKey, c.now()))

	resp, err := c.http.Do(req)
	if err != nil {
		return envelope{}, fmt.Errorf("click merchant api %s: %w: %w", op, domain.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxMerchantResponse))
	if err != nil {
		return envelope{}, fmt.Errorf("click merchant api %s: read answer: %w: %w", op, domain.ErrUnavailable, err)
	}
	var env envelope
	envErr := json.Unmarshal(raw, &env)
	switch {
	case resp.StatusCode >= 500:
		return env, fmt.Errorf("%w: %w", domain.ErrUnavailable, &APIError{Op: op, Status: resp.StatusCode, Code: env.ErrorCode, Note: env.ErrorNote})
	case resp.StatusCode >= 300:
		return env, &APIError{Op: op, Status: resp.StatusCode, Code: env.ErrorCode, Note: env.ErrorNote}
	case envErr != nil:
		return env, fmt.Errorf("click merchant api %s: answer is not JSON: %w", op, envErr)
	case env.ErrorCode != 0:
		return env, nil // an answer with an error_code carries nothing else to read
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return env, fmt.Errorf("click merchant api %s: answer is not JSON of the expected shape: %w", op, err)
	}
	return env, nil
}
