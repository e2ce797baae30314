package domain

// Paging limits of every list in the API.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Paging applies API.md's list rule to a requested page and page_size (nil
// means not given): page ≥ 1, page_size 1..MaxPageSize, defaults 1 and
// DefaultPageSize. A bad value is added to verr under its parameter name.
func Paging(page, pageSize *int, verr *ValidationError) (number, size int) {
	number, size = 1, DefaultPageSize
	if page != nil {
		if number = *page; number < 1 {
			verr.Add("page", MsgAtLeast, Args{"Min": 1})
		}
	}
	if pageSize != nil {
		if size = *pageSize; size < 1 || size > MaxPageSize {
			verr.Add("page_size", MsgBetween, Args{"Min": 1, "Max": MaxPageSize})
		}
	}
	return number, size
}
