package domain

// IDLength is the length of every id we make: a UUID in its canonical
// 8-4-4-4-12 form.
const IDLength = 36

// IsID reports whether s can be one of our ids: a UUID in its canonical
// 36-character form, hex digits of either case. Anything else (braces,
// "urn:uuid:", no dashes, a path) names nothing, so callers answer "not
// found" or "must be a UUID" before a repository or an upstream sees it, and
// Postgres never gets to fail on casting it (a 500).
func IsID(s string) bool {
	if len(s) != IDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

// ParseID returns s in the lower-case canonical form our ids are stored and
// compared in, and whether s is an id at all (see IsID). Two spellings of
// one id (upper and lower case) give the same result.
func ParseID(s string) (string, bool) {
	if !IsID(s) {
		return "", false
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'F' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
