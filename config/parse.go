package config

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// redisError is an error whose text is Redis's reply text, verbatim; the
// type lets those capitalised, punctuated texts be constants.
type redisError string

func (e redisError) Error() string { return string(e) }

const (
	errInvalidSave redisError = "Invalid save parameters"
	errCOBArgs     redisError = "Wrong number of arguments in buffer limit configuration."
	errCOBClass    redisError = "Invalid client class specified in buffer limit configuration."
	errCOBValue    redisError = "Error in hard, soft or soft_seconds setting in buffer limit configuration."
	errEventClass  redisError = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
	errTooManyBind redisError = "Too many bind addresses specified."
	errRDBPreamble redisError = "Spinel writes AOF base files in RESP form only"
)

// This file holds the value parsers. Each mirrors the C function Redis uses
// for the same option, quirks included, because the differences show up in
// CONFIG SET replies ("01mb" is a memory value, "01" is not an integer).

// ParseMemory parses a memory value as Redis does: digits with an optional,
// case-insensitive unit b, k (1000), kb (1024), m, mb, g or gb. Negative
// values and values above math.MaxInt64 are rejected.
func ParseMemory(s string) (int64, error) {
	v, ok := memtoull(s)
	if !ok || v > math.MaxInt64 {
		return 0, errors.New("argument must be a memory value")
	}
	return int64(v), nil
}

// memtoull is Redis's memtoull: like ParseMemory but returning the unsigned
// value, saturated on digit overflow and wrapped on unit overflow, exactly as
// the C code does. An empty number ("" or "mb") is 0, as strtoull makes it.
func memtoull(s string) (uint64, bool) {
	if strings.HasPrefix(s, "-") {
		return 0, false
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	var mul uint64
	switch strings.ToLower(s[i:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if i >= 128 { // Redis copies the digits into a 128-byte buffer
		return 0, false
	}
	var v uint64
	if i > 0 {
		var err error
		if v, err = strconv.ParseUint(s[:i], 10, 64); err != nil {
			v = math.MaxUint64 // strtoull saturates; only ERANGE is possible here
		}
	}
	return v * mul, true
}

// string2ll is Redis's strict integer parser: no sign other than a leading
// '-', no leading zeros, no spaces.
func string2ll(s string) (int64, bool) {
	if s == "0" {
		return 0, true
	}
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || digits[0] < '1' || digits[0] > '9' {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// strtoll is C's strtoll with the "whole string consumed" check Redis puts
// around it: leading white space and a sign are allowed, overflow
// saturates, and an empty string is 0.
func strtoll(s string, base int) (int64, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" {
		// No digits: strtoll leaves endptr at the start of the input.
		return 0, s == ""
	}
	u, err := strconv.ParseUint(t, base, 64)
	var ne *strconv.NumError
	if err != nil && !(errors.As(err, &ne) && ne.Err == strconv.ErrRange) {
		return 0, false
	}
	switch {
	case neg && (err != nil || u > 1<<63):
		return math.MinInt64, true
	case neg:
		return -int64(u), true
	case err != nil || u > math.MaxInt64:
		return math.MaxInt64, true
	}
	return int64(u), true
}

// splitSpaces is sdssplitlen(value, " "), which CONFIG SET uses for
// options taking several words: every single space separates, so doubled
// or trailing spaces give empty words, and "" gives none.
func splitSpaces(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, " ")
}

// formatMemory writes a byte count the way CONFIG REWRITE does: in the
// largest binary unit dividing it exactly.
func formatMemory(v int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "gb"}, {1 << 20, "mb"}, {1 << 10, "kb"}} {
		if v != 0 && v%u.size == 0 {
			return strconv.FormatInt(v/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(v, 10)
}

// ---------------------------------------------------------------------------
// Keyspace notifications (Redis notify.c)

// Keyspace event classes: the bits of notify-keyspace-events, with the same
// values as NOTIFY_* in Redis's server.h.
const (
	NotifyKeyspace = 1 << 0  // K
	NotifyKeyevent = 1 << 1  // E
	NotifyGeneric  = 1 << 2  // g
	NotifyString   = 1 << 3  // $
	NotifyList     = 1 << 4  // l
	NotifySet      = 1 << 5  // s
	NotifyHash     = 1 << 6  // h
	NotifyZset     = 1 << 7  // z
	NotifyExpired  = 1 << 8  // x
	NotifyEvicted  = 1 << 9  // e
	NotifyStream   = 1 << 10 // t
	NotifyKeyMiss  = 1 << 11 // m (not part of A)
	NotifyLoaded   = 1 << 12 // module only, no letter
	NotifyModule   = 1 << 13 // d
	NotifyNew      = 1 << 14 // n (not part of A)
	// NotifyAll is what "A" stands for.
	NotifyAll = NotifyGeneric | NotifyString | NotifyList | NotifySet | NotifyHash |
		NotifyZset | NotifyExpired | NotifyEvicted | NotifyStream | NotifyModule
)

// eventLetters is the order keyspaceEventsFlagsToString writes the classes in.
var eventLetters = []struct {
	flag   int
	letter byte
}{
	{NotifyGeneric, 'g'}, {NotifyString, '$'}, {NotifyList, 'l'}, {NotifySet, 's'},
	{NotifyHash, 'h'}, {NotifyZset, 'z'}, {NotifyExpired, 'x'}, {NotifyEvicted, 'e'},
	{NotifyStream, 't'}, {NotifyModule, 'd'}, {NotifyNew, 'n'},
}

// ParseKeyspaceEvents converts a notify-keyspace-events string to flags, as
// Redis's keyspaceEventsStringToFlags; ok is false on an unknown letter.
func ParseKeyspaceEvents(s string) (flags int, ok bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 'A':
			flags |= NotifyAll
		case 'K':
			flags |= NotifyKeyspace
		case 'E':
			flags |= NotifyKeyevent
		case 'm':
			flags |= NotifyKeyMiss
		default:
			found := false
			for _, e := range eventLetters {
				if e.letter == c {
					flags |= e.flag
					found = true
				}
			}
			if !found {
				return 0, false
			}
		}
	}
	return flags, true
}

// FormatKeyspaceEvents is Redis's keyspaceEventsFlagsToString: the
// canonical spelling CONFIG GET shows. Note that "A" hides 'n', as in Redis.
func FormatKeyspaceEvents(flags int) string {
	var b []byte
	if flags&NotifyAll == NotifyAll {
		b = append(b, 'A')
	} else {
		for _, e := range eventLetters {
			if flags&e.flag != 0 {
				b = append(b, e.letter)
			}
		}
	}
	if flags&NotifyKeyspace != 0 {
		b = append(b, 'K')
	}
	if flags&NotifyKeyevent != 0 {
		b = append(b, 'E')
	}
	if flags&NotifyKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

// ---------------------------------------------------------------------------
// Multi-word options

// OutputBufferLimit is one class of client-output-buffer-limit: a client is
// disconnected when its pending output reaches Hard bytes, or stays above
// Soft bytes for SoftSeconds. Zero disables a limit.
type OutputBufferLimit struct {
	Hard, Soft  int64
	SoftSeconds int
}

// Client classes, the indexes of Config.ClientOutputBufferLimit.
const (
	ClientNormal = iota
	ClientReplica
	ClientPubSub
)

// outputBufferClasses are the names CONFIG GET prints, by index.
var outputBufferClasses = [3]string{"normal", "slave", "pubsub"}

func outputBufferClass(name string) int {
	switch strings.ToLower(name) {
	case "normal":
		return ClientNormal
	case "slave", "replica":
		return ClientReplica
	case "pubsub":
		return ClientPubSub
	}
	return -1 // includes "master", which Redis also refuses here
}

// parseOutputBufferLimits validates every class before changing any, as
// Redis does, and returns the limits with the given classes replaced.
func parseOutputBufferLimits(cur [3]OutputBufferLimit, args []string) ([3]OutputBufferLimit, error) {
	if len(args)%4 != 0 {
		return cur, errCOBArgs
	}
	for i := 0; i < len(args); i += 4 {
		class := outputBufferClass(args[i])
		if class < 0 {
			return cur, errCOBClass
		}
		hard, okHard := memtoull(args[i+1])
		soft, okSoft := memtoull(args[i+2])
		secs, okSecs := strtoll(args[i+3], 10)
		secs = int64(int32(secs)) // Redis keeps soft_seconds in an int
		if !okHard || !okSoft || !okSecs || secs < 0 {
			return cur, errCOBValue
		}
		cur[class] = OutputBufferLimit{Hard: satInt64(hard), Soft: satInt64(soft), SoftSeconds: int(secs)}
	}
	return cur, nil
}

func formatOutputBufferLimits(l [3]OutputBufferLimit, class [3]string, mem func(int64) string) []string {
	out := make([]string, 3)
	for i, v := range l {
		out[i] = class[i] + " " + mem(v.Hard) + " " + mem(v.Soft) + " " + strconv.Itoa(v.SoftSeconds)
	}
	return out
}

// parseSave validates save parameters ("<seconds> <changes>" pairs) as
// Redis's setConfigSaveOption and returns them in canonical form.
func parseSave(args []string) (string, error) {
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	if len(args)%2 != 0 {
		return "", errInvalidSave
	}
	out := make([]string, len(args))
	for i, a := range args {
		v, ok := strtoll(a, 10)
		if !ok || (i%2 == 0 && v < 1) || (i%2 == 1 && v < 0) {
			return "", errInvalidSave
		}
		if i%2 == 1 {
			v = int64(int32(v)) // changes is an int in Redis
		}
		out[i] = strconv.FormatInt(v, 10)
	}
	return strings.Join(out, " "), nil
}

func satInt64(v uint64) int64 {
	if v > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(v)
}
