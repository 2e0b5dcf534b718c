package commands

// Error replies shared by several commands, with Redis's exact texts (without
// the leading '-' and trailing CRLF, which the reply writer adds).
const (
	ErrWrongType       = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrSyntax          = "ERR syntax error"
	ErrNotInteger      = "ERR value is not an integer or out of range"
	ErrNotFloat        = "ERR value is not a valid float"
	ErrOverflow        = "ERR increment or decrement would overflow"
	ErrNoSuchKey       = "ERR no such key"
	ErrDBIndex         = "ERR DB index is out of range"
	ErrInvalidDBIndex  = "ERR invalid DB index"
	ErrInvalidExpire   = "ERR invalid expire time in '%s' command"
	ErrNotPositive     = "ERR value is out of range, must be positive"
	ErrOutOfRange      = "ERR index out of range"
	ErrStringTooLong   = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	ErrSameObject      = "ERR source and destination objects are the same"
	ErrNoAuth          = "NOAUTH Authentication required."
	ErrWrongPass       = "WRONGPASS invalid username-password pair or user is disabled."
	ErrInvalidCursor   = "ERR invalid cursor"
	ErrTimeoutNegative = "ERR timeout is negative"
)
