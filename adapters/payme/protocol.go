package payme

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
)

// JSON-RPC error codes of Payme's Merchant API (SPEC §2.3).
const (
	CodeMethodNotPost     = -32300
	CodeParseError        = -32700
	CodeInvalidRequest    = -32600
	CodeMethodNotFound    = -32601
	CodeInsufficientPrivs = -32504
	CodeSystemError       = -32400
	CodeReceiptNotFound   = -32001 // SetFiscalData
	CodeInvalidParams     = -32602 // SetFiscalData
	CodeWrongAmount       = -31001
	CodeTxNotFound        = -31003
	CodeCannotCancel      = -31007
	CodeCannotPerform     = -31008
	CodeAccountNotFound   = -31050
)

// message is Payme's localised error text; Payme requires all three languages.
type message struct {
	RU string `json:"ru"`
	UZ string `json:"uz"`
	EN string `json:"en"`
}

var messages = map[int]message{
	CodeMethodNotPost:     {"Метод запроса должен быть POST", "So'rov usuli POST bo'lishi kerak", "Request method must be POST"},
	CodeParseError:        {"Ошибка разбора JSON", "JSON tahlilida xatolik", "Parse error"},
	CodeInvalidRequest:    {"Неверный запрос", "Noto'g'ri so'rov", "Invalid request"},
	CodeMethodNotFound:    {"Метод не найден", "Metod topilmadi", "Method not found"},
	CodeInsufficientPrivs: {"Недостаточно привилегий для выполнения метода", "Metodni bajarish uchun huquq yetarli emas", "Insufficient privilege to perform this method"},
	CodeSystemError:       {"Системная ошибка", "Tizim xatosi", "System error"},
	CodeReceiptNotFound:   {"Чек не найден", "Chek topilmadi", "Receipt not found"},
	CodeInvalidParams:     {"Неверные параметры", "Noto'g'ri parametrlar", "Invalid params"},
	CodeWrongAmount:       {"Неверная сумма", "Noto'g'ri summa", "Incorrect amount"},
	CodeTxNotFound:        {"Транзакция не найдена", "Tranzaksiya topilmadi", "Transaction not found"},
	CodeCannotCancel:      {"Невозможно отменить транзакцию", "Tranzaksiyani bekor qilib bo'lmaydi", "Unable to cancel transaction"},
	CodeCannotPerform:     {"Невозможно выполнить операцию", "Amalni bajarib bo'lmaydi", "Unable to perform operation"},
	CodeAccountNotFound:   {"Заказ не найден", "Buyurtma topilmadi", "Order not found"},
}

// rpcError is an error answer: its code, the data Payme gets (a field or
// method name, or nothing), and the cause, for the log only.
type rpcError struct {
	code  int
	data  any
	cause error
}

func newError(code int, data any) *rpcError { return &rpcError{code: code, data: data} }

// response is the envelope of every answer. Exactly one of result and error
// is set; id is the request's, as it was sent, or null.
type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *errorBody      `json:"error,omitempty"`
}

type errorBody struct {
	Code    int     `json:"code"`
	Message message `json:"message"`
	Data    any     `json:"data,omitempty"`
}

var nullID = json.RawMessage("null")

func errorResponse(id json.RawMessage, e *rpcError) response {
	msg, ok := messages[e.code]
	if !ok {
		msg = messages[CodeSystemError]
	}
	return response{JSONRPC: "2.0", ID: echoID(id), Error: &errorBody{Code: e.code, Message: msg, Data: e.data}}
}

func resultResponse(id json.RawMessage, result any) response {
	return response{JSONRPC: "2.0", ID: echoID(id), Result: result}
}

// echoID is the request id in compact form, or null when there was none.
func echoID(id json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(id)) == 0 {
		return nullID
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, id); err != nil {
		return nullID
	}
	return buf.Bytes()
}

// encode marshals a response. It cannot fail for the values built here; if
// it ever did, a fixed system-error body still keeps the protocol.
func encode(r response) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(errorResponse(nullID, newError(CodeSystemError, nil)))
	}
	return b
}

// errorFor maps a use case's error to Payme's code; validationCode, when not
// 0, is the method's code for a validation error (its table entry's).
// Everything unknown is an internal failure (-32400): Payme retries it and
// the sandbox expects it.
func errorFor(err error, validationCode int) *rpcError {
	e := &rpcError{cause: err}
	switch {
	case errors.Is(err, payments.ErrPaymeOrderNotFound):
		e.code, e.data = CodeAccountNotFound, payments.PaymeAccountOrderID
	case errors.Is(err, payment.ErrAmountMismatch):
		e.code = CodeWrongAmount
	case errors.Is(err, payments.ErrPaymeReceiptNotFound):
		e.code = CodeReceiptNotFound
	case errors.Is(err, payment.ErrCannotCancel):
		e.code = CodeCannotCancel
	case errors.Is(err, payment.ErrNotFound):
		e.code = CodeTxNotFound
	case errors.Is(err, order.ErrNotPayable), errors.Is(err, payment.ErrOrderHeld),
		errors.Is(err, payment.ErrBadState), errors.Is(err, payment.ErrTimedOut),
		errors.Is(err, payment.ErrAlreadyPaid), errors.Is(err, payment.ErrDuplicate):
		e.code = CodeCannotPerform
	case validationCode != 0 && errors.Is(err, domain.ErrValidation):
		e.code = validationCode
	case errors.Is(err, payment.ErrInvalidReason):
		e.code, e.data = CodeInvalidRequest, "reason"
	default:
		e.code = CodeSystemError
	}
	return e
}
