package orders

import (
	"context"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// ListOrders pages through orders: a buyer's own, or every order for admins.
type ListOrders struct {
	orders ports.OrderRepository
}

// NewListOrders wires the use case.
func NewListOrders(orders ports.OrderRepository) *ListOrders {
	return &ListOrders{orders: orders}
}

// ListOrdersInput is the caller and the query string. UserID is the admins'
// filter ("" = every user); for anyone else the list is always their own and
// UserID is ignored. Status is the raw filter ("" = any). Page and PageSize
// are nil when not given, so that an explicit 0 is refused, not defaulted.
type ListOrdersInput struct {
	Actor    user.Actor
	UserID   string
	Status   string
	Page     *int
	PageSize *int
}

// OrderPage is one page of orders, newest first, and how many match in all.
type OrderPage struct {
	Items    []*order.Order
	Page     int
	PageSize int
	Total    int
}

// Handle returns a *domain.ValidationError (422) naming status, page and
// page_size when they are invalid.
func (uc *ListOrders) Handle(ctx context.Context, in ListOrdersInput) (OrderPage, error) {
	f := ports.OrderFilter{UserID: in.Actor.ID}
	if in.Actor.IsAdmin() {
		f.UserID = in.UserID
	}
	verr := &domain.ValidationError{}
	if in.Status != "" {
		s, err := order.ParseStatus(in.Status)
		if err := verr.Merge(err); err != nil {
			return OrderPage{}, err
		}
		f.Status = s
	}
	f.Page, f.PageSize = domain.Paging(in.Page, in.PageSize, verr)
	if err := verr.OrNil(); err != nil {
		return OrderPage{}, err
	}
	if f.UserID == "" && !in.Actor.IsAdmin() {
		// Nobody: never fall through to "every user".
		return OrderPage{}, ErrNotAllowed
	}
	items, total, err := uc.orders.List(ctx, f)
	if err != nil {
		return OrderPage{}, err
	}
	if items == nil {
		items = []*order.Order{}
	}
	return OrderPage{Items: items, Page: f.Page, PageSize: f.PageSize, Total: total}, nil
}
