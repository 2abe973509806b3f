package decode

// IsToken reports whether s is an RFC 3261 §25.1 token, what a header
// name is made of: the store checks a header sort key with it and the
// terminal UI a header column, so both accept the same names.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChar[s[i]] {
			return false
		}
	}
	return true
}
