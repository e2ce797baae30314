package domain_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/domain"
)

func TestInvalidCarriesTheMessageIDAndArgs(t *testing.T) {
	verr := domain.Invalid("name", domain.MsgCharsRange, domain.Args{"Count": 200})
	verr.Add("stock", domain.MsgRange, domain.Args{"Min": 0}, domain.Args{"Max": 5})
	verr.Add("price", domain.MsgRequired)
	verr.AddField(domain.FieldError{Field: "phone", Message: domain.MsgPhone})

	assert.Equal(t, []domain.FieldError{
		{Field: "name", Message: domain.MsgCharsRange, Args: domain.Args{"Count": 200}},
		{Field: "stock", Message: domain.MsgRange, Args: domain.Args{"Min": 0, "Max": 5}},
		{Field: "price", Message: domain.MsgRequired},
		{Field: "phone", Message: domain.MsgPhone},
	}, verr.Fields)
	assert.True(t, errors.Is(verr, domain.ErrValidation))
	assert.Equal(t, "validation failed: name: validation.chars_range (Count=200); "+
		"stock: validation.range (Max=5, Min=0); price: validation.required; phone: validation.phone", verr.Error(),
		"the Go error text names ids and args in a stable order, for logs")
}
