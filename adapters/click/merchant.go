package click

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ultramarket/gateway/domain"
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
// payment, and reversing one. It implements ports.ClickMerchant.
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
	sum := sha1.Sum([]byte(ts + secret))
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
	if err := c.call(ctx, "payment status", http.MethodGet, []string{"payment", "status", c.cfg.ServiceID, strconv.FormatInt(paymentID, 10)}, &b); err != nil {
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
func (c *MerchantClient) PaymentStatusByMerchantTransID(ctx context.Context, merchantTransID string, day time.Time) (ports.ClickPaymentStatus, error) {
	var b statusBody
	err := c.call(ctx, "payment status by merchant_trans_id", http.MethodGet,
		[]string{"payment", "status_by_mti", c.cfg.ServiceID, merchantTransID, day.Format(time.DateOnly)}, &b)
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
func (c *MerchantClient) Reverse(ctx context.Context, paymentID int64) error {
	var b statusBody
	return c.call(ctx, "reversal", http.MethodDelete, []string{"payment", "reversal", c.cfg.ServiceID, strconv.FormatInt(paymentID, 10)}, &b)
}

// call performs one request within the per-call timeout. segments are
// escaped one by one, so an id cannot add path levels.
func (c *MerchantClient) call(ctx context.Context, op, method string, segments []string, out *statusBody) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	target := c.base.Scheme + "://" + c.base.Host + c.base.EscapedPath() + strings.Join(escaped, "/")

	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return fmt.Errorf("click merchant api %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Auth", merchantAuth(c.cfg.MerchantUserID, c.cfg.SecretKey, c.now()))

	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("click merchant api %s: %w: %w", op, domain.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMerchantResponse))
	if err != nil {
		return fmt.Errorf("click merchant api %s: read answer: %w: %w", op, domain.ErrUnavailable, err)
	}
	decodeErr := json.Unmarshal(body, out)
	switch {
	case resp.StatusCode >= 500:
		return fmt.Errorf("%w: %w", domain.ErrUnavailable, &APIError{Op: op, Status: resp.StatusCode, Code: out.ErrorCode, Note: out.ErrorNote})
	case resp.StatusCode >= 300:
		return &APIError{Op: op, Status: resp.StatusCode, Code: out.ErrorCode, Note: out.ErrorNote}
	case decodeErr != nil:
		return fmt.Errorf("click merchant api %s: answer is not JSON: %w", op, decodeErr)
	case out.ErrorCode != 0:
		return &APIError{Op: op, Status: resp.StatusCode, Code: out.ErrorCode, Note: out.ErrorNote}
	}
	return nil
}
