package domain

// Message ids of field errors: what is wrong, for the edge to say in the
// client's language (adapters/i18n/locales). Every id here needs a text in
// every catalogue, which a test checks. Args a text names are given next to
// its id; Count, when named, also picks the plural form.
const (
	MsgRequired             = "validation.required"
	MsgRequiredMayBeEmpty   = "validation.required_may_be_empty"
	MsgRequiredCartQuantity = "validation.required_cart_quantity"
	MsgNotEmpty             = "validation.not_empty"
	MsgUUID                 = "validation.uuid"
	MsgUnknownField         = "validation.unknown_field"
	MsgInvalidValue         = "validation.invalid_value"
	MsgInvalid              = "validation.invalid"
	MsgMissingRecord        = "validation.missing_record"
	MsgAtMostOnce           = "validation.at_most_once"
	MsgOutOfRange           = "validation.out_of_range"
	MsgIncorrect            = "validation.incorrect"
	MsgCannotChange         = "validation.cannot_change"

	// The JSON type a value should have had.
	MsgWrongType      = "validation.wrong_type"
	MsgString         = "validation.string"
	MsgBoolean        = "validation.boolean"
	MsgInteger        = "validation.integer"
	MsgIntegerInRange = "validation.integer_in_range"
	MsgNumber         = "validation.number"
	MsgNumberInRange  = "validation.number_in_range"
	MsgArray          = "validation.array"
	MsgObject         = "validation.object"
	MsgJSONObject     = "validation.json_object"

	// Numbers and lengths.
	MsgPositive     = "validation.positive"
	MsgAtLeast      = "validation.at_least"       // Min
	MsgBetween      = "validation.between"        // Min, Max
	MsgRange        = "validation.range"          // Min, Max
	MsgRangeInTotal = "validation.range_in_total" // Min, Max: of one product over several lines
	MsgIntegerRange = "validation.integer_range"  // Min, Max
	MsgCharsRange   = "validation.chars_range"    // Count: the most characters, at least 1
	MsgCharsOneTo   = "validation.chars_one_to"   // Count: as chars_range, worded "1 to N"
	MsgMaxChars     = "validation.max_chars"      // Count
	MsgMinBytes     = "validation.min_bytes"      // Count
	MsgMaxBytes     = "validation.max_bytes"      // Count
	MsgTiyinRange   = "validation.tiyin_range"    // Count: the most tiyin, at least 1
	MsgDigits       = "validation.digits"         // Count
	MsgExactDigits  = "validation.exact_digits"   // Count
	MsgDigitsRange  = "validation.digits_range"   // Count: the most digits, at least 1

	// Fixed sets of values; the values are the API's own words and stay as
	// they are in every language.
	MsgEither = "validation.either" // Values (comma-separated), Last: "must be day, week or month"
	MsgOneOf  = "validation.one_of" // Values

	// Accounts.
	MsgEmail           = "validation.email"
	MsgEmailTooLong    = "validation.email_too_long"
	MsgPhone           = "validation.phone"
	MsgPasswordIsEmail = "validation.password_is_email"
	MsgPasswordCommon  = "validation.password_common"

	// Orders, carts and products.
	MsgUnknownOrderStatus  = "validation.unknown_order_status"
	MsgMinOneItem          = "validation.min_one_item"
	MsgMinOneLine          = "validation.min_one_line"
	MsgMaxDistinctProducts = "validation.max_distinct_products" // Count
	MsgOrderTotalTooLarge  = "validation.order_total_too_large"
	MsgLineTotalTooLarge   = "validation.line_total_too_large"
	MsgUnknownProduct      = "validation.unknown_product"
	MsgCartEmpty           = "validation.cart_empty"
	MsgCartQuantity        = "validation.cart_quantity" // Max
	MsgCartFull            = "validation.cart_full"     // Count

	// Dates and reports.
	MsgTimeZone       = "validation.time_zone"
	MsgNamedTimeZone  = "validation.named_time_zone"
	MsgTimestamp      = "validation.timestamp"
	MsgFromAfterTo    = "validation.from_after_to"
	MsgTooManyPeriods = "validation.too_many_periods" // Count, Interval
	MsgExportTooLarge = "validation.export_too_large" // Count: rows in the range, Max: the most one export holds

	// Payments and fiscal data.
	MsgNoNUL           = "validation.no_nul"
	MsgPaymeDate       = "validation.payme_date"
	MsgPaymeOrderID    = "validation.payme_order_id"
	MsgNoSemicolon     = "validation.no_semicolon"
	MsgNoBackslash     = "validation.no_backslash"
	MsgNoSpaces        = "validation.no_spaces"
	MsgAbsoluteHTTPS   = "validation.absolute_https"
	MsgNoUserInfo      = "validation.no_user_info"
	MsgOwnHost         = "validation.own_host"
	MsgHTTPS           = "validation.https"
	MsgTINOrPINFL      = "validation.tin_or_pinfl"
	MsgTINNotBothPINFL = "validation.tin_not_both_pinfl"
	MsgNoFiscalCode    = "validation.no_fiscal_code"
)
