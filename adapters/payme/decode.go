package payme

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// maxIDChars is the longest Payme transaction id stored (VARCHAR(64));
// Payme's own are 24 characters.
const maxIDChars = 64

// envelope is a JSON-RPC request whose shape is valid; params are not yet
// decoded (that happens per method, after authentication).
type envelope struct {
	id     json.RawMessage
	method string
	params params
}

// decodeEnvelope checks the request shape. Not JSON → -32700; JSON but not
// an object, without a string method, or with params that is not an object
// → -32600. The id is kept whenever the body was an object, so even these
// answers echo it. Payme sends no "jsonrpc" member; none is required.
func decodeEnvelope(body []byte) (envelope, *rpcError) {
	var env envelope
	if !json.Valid(body) {
		return env, newError(CodeParseError, nil)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return env, newError(CodeInvalidRequest, nil)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return env, newError(CodeParseError, nil)
	}
	env.id = raw["id"]
	method, ok := jsonString(raw["method"])
	if !ok {
		return env, newError(CodeInvalidRequest, "method")
	}
	env.method = method
	p := raw["params"]
	if !isObject(p) {
		return env, newError(CodeInvalidRequest, "params")
	}
	if err := json.Unmarshal(p, &env.params); err != nil {
		return env, newError(CodeInvalidRequest, "params")
	}
	return env, nil
}

// The params of each method, decoded strictly: wrong or missing fields are
// -32600 with the field's name in data (-32602 for SetFiscalData, as Payme
// documents for it), an account without a string order_id is -31050 with
// data "order_id" (checked after every other field). Fields Payme may add
// later are ignored.

func decodeCheckPerform(p params) (payments.PaymeCheckPerformInput, *rpcError) {
	amount, e := amountParam(p)
	if e != nil {
		return payments.PaymeCheckPerformInput{}, e
	}
	account, e := accountParam(p)
	if e != nil {
		return payments.PaymeCheckPerformInput{}, e
	}
	return payments.PaymeCheckPerformInput{Amount: amount, Account: account}, nil
}

func decodeCreate(p params) (payments.PaymeCreateInput, *rpcError) {
	id, e := idParam(p, CodeInvalidRequest)
	if e != nil {
		return payments.PaymeCreateInput{}, e
	}
	t, ok := jsonInt(p["time"])
	if !ok || t <= 0 {
		return payments.PaymeCreateInput{}, newError(CodeInvalidRequest, "time")
	}
	// The rest are CheckPerformTransaction's params, checked in its order.
	in, e := decodeCheckPerform(p)
	if e != nil {
		return payments.PaymeCreateInput{}, e
	}
	return payments.PaymeCreateInput{PaymeID: id, Time: t, Amount: in.Amount, Account: in.Account}, nil
}

// decodeID reads the params of the methods that name a transaction only
// (PerformTransaction, CheckTransaction).
func decodeID(p params) (string, *rpcError) {
	return idParam(p, CodeInvalidRequest)
}

type cancelParams struct {
	id     string
	reason payment.Reason
}

func decodeCancel(p params) (cancelParams, *rpcError) {
	id, e := idParam(p, CodeInvalidRequest)
	if e != nil {
		return cancelParams{}, e
	}
	n, ok := jsonInt(p["reason"])
	if !ok || n < -1<<31 || n > 1<<31-1 {
		return cancelParams{}, newError(CodeInvalidRequest, "reason")
	}
	reason, err := payment.ParseReason(int(n))
	if err != nil {
		return cancelParams{}, newError(CodeInvalidRequest, "reason")
	}
	return cancelParams{id: id, reason: reason}, nil
}

type statementParams struct{ from, to int64 }

func decodeStatement(p params) (statementParams, *rpcError) {
	from, ok := jsonInt(p["from"])
	if !ok || from < 0 {
		return statementParams{}, newError(CodeInvalidRequest, "from")
	}
	to, ok := jsonInt(p["to"])
	if !ok || to < 0 {
		return statementParams{}, newError(CodeInvalidRequest, "to")
	}
	return statementParams{from: from, to: to}, nil
}

func decodeFiscal(p params) (payments.PaymeFiscalInput, *rpcError) {
	id, e := idParam(p, CodeInvalidParams)
	if e != nil {
		return payments.PaymeFiscalInput{}, e
	}
	kind, ok := jsonString(p["type"])
	if !ok || (kind != string(ports.FiscalPerform) && kind != string(ports.FiscalCancel)) {
		return payments.PaymeFiscalInput{}, newError(CodeInvalidParams, "type")
	}
	data := p["fiscal_data"]
	if !isObject(data) || !storableJSON(data) {
		return payments.PaymeFiscalInput{}, newError(CodeInvalidParams, "fiscal_data")
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return payments.PaymeFiscalInput{}, newError(CodeInvalidParams, "fiscal_data")
	}
	return payments.PaymeFiscalInput{PaymeID: id, Kind: ports.FiscalKind(kind), Data: compact.Bytes()}, nil
}

// amountParam: a positive integer number of tiyin, written as a plain JSON
// integer. 1.5, 100.0, 1e2, "100", 0 and -1 are all refused (-32600): Payme
// sends integers, and anything else is a sender bug better caught than
// rounded.
func amountParam(p params) (money.Money, *rpcError) {
	n, ok := jsonInt(p["amount"])
	if !ok || n <= 0 {
		return money.Money{}, newError(CodeInvalidRequest, "amount")
	}
	m, err := money.FromTiyin(n)
	if err != nil {
		return money.Money{}, newError(CodeInvalidRequest, "amount")
	}
	return m, nil
}

// idParam: Payme's transaction id, a non-empty string of at most 64
// characters that Postgres can store (no NUL).
func idParam(p params, code int) (string, *rpcError) {
	id, ok := jsonString(p["id"])
	if !ok || id == "" || utf8.RuneCountInString(id) > maxIDChars || strings.ContainsRune(id, 0) {
		return "", newError(code, "id")
	}
	return id, nil
}

// accountParam: an object of strings, kept verbatim. Not an object, or a
// value other than a string → -32600; no order_id, or one that is not a
// string → -31050 with data "order_id".
func accountParam(p params) (map[string]string, *rpcError) {
	raw := p["account"]
	if !isObject(raw) {
		return nil, newError(CodeInvalidRequest, "account")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, newError(CodeInvalidRequest, "account")
	}
	account := make(map[string]string, len(fields))
	orderIDOK := false
	for k, v := range fields {
		s, ok := jsonString(v)
		if k == payments.PaymeAccountOrderID {
			if ok && !strings.ContainsRune(s, 0) {
				account[k], orderIDOK = s, true
			}
			continue
		}
		if !ok || strings.ContainsRune(k, 0) || strings.ContainsRune(s, 0) {
			return nil, newError(CodeInvalidRequest, "account")
		}
		account[k] = s
	}
	if !orderIDOK {
		return nil, newError(CodeAccountNotFound, payments.PaymeAccountOrderID)
	}
	return account, nil
}

// jsonInt reads a plain JSON integer (-?(0|[1-9][0-9]*)) that fits int64.
// Fractions and exponents are refused even when the value is whole.
func jsonInt(raw json.RawMessage) (int64, bool) {
	s := string(bytes.TrimSpace(raw))
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// jsonString reads a JSON string; anything else (null included) is false.
func jsonString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// storableJSON reports whether Postgres' JSONB accepts the value: it refuses
// the NUL character (\u0000) in strings and keys.
func storableJSON(raw json.RawMessage) bool {
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return true
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return false
	}
	return !hasNUL(v)
}

func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.ContainsRune(x, 0)
	case []any:
		for _, e := range x {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) || hasNUL(e) {
				return true
			}
		}
	}
	return false
}
