package commands

import (
	"errors"
	"math"
)

// ---------------------------------------------------------------------------
// Key extraction. Redis 7 finds the keys of a command from its key specs
// (getKeysUsingKeySpecs in db.c) and falls back, for commands whose specs are
// incomplete or whose key flags depend on the arguments, to a per-command
// "getkeys proc". Spinel does the same with the same data, so COMMAND GETKEYS,
// WATCH-style checks and ACL key checks agree with Redis argument for
// argument.
// ---------------------------------------------------------------------------

// Errors of key extraction, with the texts COMMAND GETKEYS replies.
var (
	errGetKeysInvalidCommand = errors.New("ERR Invalid command specified")
	errGetKeysNoKeys         = errors.New("ERR The command has no key arguments")
	errGetKeysArity          = errors.New("ERR Invalid number of arguments specified for command")
	errGetKeysInvalidArgs    = errors.New("ERR Invalid arguments specified for command")
)

// keyFlags are the access flags of a key reference (Redis's CMD_KEY_*), in
// the order COMMAND INFO and COMMAND GETKEYSANDFLAGS print them.
type keyFlags uint16

const (
	keyRO keyFlags = 1 << iota
	keyRW
	keyOW
	keyRM
	keyAccess
	keyUpdate
	keyInsert
	keyDelete
	keyNotKey
	keyIncomplete
	keyVariableFlags
)

// keyFlagNames are the printed names of the keyFlags bits, in bit order.
var keyFlagNames = [...]string{
	"RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
	"not_key", "incomplete", "variable_flags",
}

// parseKeyFlags converts a key spec's flag names to bits. Unknown names are
// ignored: they cannot change which arguments are keys.
func parseKeyFlags(names []string) keyFlags {
	var f keyFlags
	for _, n := range names {
		for i, k := range keyFlagNames {
			if n == k {
				f |= 1 << i
				break
			}
		}
	}
	return f
}

// keyResult collects key references: positions always, flags only when
// withFlags is set (COMMAND GETKEYSANDFLAGS), so that plain position lookups
// write into the caller's slice and nothing else.
type keyResult struct {
	pos       []int
	flags     []keyFlags
	withFlags bool
}

func (r *keyResult) add(pos int, f keyFlags) {
	r.pos = append(r.pos, pos)
	if r.withFlags {
		r.flags = append(r.flags, f)
	}
}

func (r *keyResult) reset() {
	r.pos = r.pos[:0]
	r.flags = r.flags[:0]
}

// keyPositions appends to dst[:0] the positions in argv of the keys of the
// command s, argv being the whole command (argv[0] is the command name; for
// a subcommand argv[1] is the subcommand name). It does not allocate when
// dst has room for the keys.
//
// Errors, as COMMAND GETKEYS reports them: errGetKeysNoKeys if the command
// takes no keys, errGetKeysArity if argv has the wrong number of arguments,
// errGetKeysInvalidArgs if no key could be found (a syntax error the command
// itself would report). A command flagged no_mandatory_keys returns no keys
// and no error instead of the last one.
func (s *Spec) keyPositions(argv [][]byte, dst []int) ([]int, error) {
	r := keyResult{pos: dst[:0]}
	err := s.getKeys(argv, &r)
	return r.pos, err
}

// getKeys fills r as keyPositions describes; it is COMMAND GETKEYS's logic
// (getKeysSubcommandImpl) after the command lookup.
func (s *Spec) getKeys(argv [][]byte, r *keyResult) error {
	if !s.hasKeys() {
		return errGetKeysNoKeys
	}
	if (s.Arity > 0 && s.Arity != len(argv)) || len(argv) < -s.Arity {
		return errGetKeysArity
	}
	s.getKeysWithSpecs(argv, r)
	if len(r.pos) == 0 && s.Flags&FlagNoMandatoryKeys == 0 {
		return errGetKeysInvalidArgs
	}
	return nil
}

// hasKeys reports whether the command may take keys (doesCommandHaveKeys): it
// has a getkeys proc, or a key spec for real keys (not only channels).
func (s *Spec) hasKeys() bool {
	if getKeysProcOf(s) != procNone {
		return true
	}
	for i := range s.KeySpecs {
		if parseKeyFlags(s.KeySpecs[i].Flags)&keyNotKey == 0 {
			return true
		}
	}
	return false
}

// getKeysWithSpecs is Redis's getKeysFromCommandWithSpecs: key specs are
// preferred when they exist and their flags do not depend on the arguments;
// an invalid or incomplete spec falls back to the command's getkeys proc.
func (s *Spec) getKeysWithSpecs(argv [][]byte, r *keyResult) {
	var hasKeySpec, hasVarFlags bool
	for i := range s.KeySpecs {
		f := parseKeyFlags(s.KeySpecs[i].Flags)
		hasKeySpec = hasKeySpec || f&keyNotKey == 0
		hasVarFlags = hasVarFlags || f&keyVariableFlags != 0
	}
	if hasKeySpec && !hasVarFlags {
		if s.keysFromSpecs(argv, r) {
			return
		}
	}
	getKeysProcOf(s).run(argv, r)
}

// keysFromSpecs is Redis's getKeysUsingKeySpecs: it walks every key spec,
// finds where its keys begin (a fixed index, or a keyword searched forwards
// or backwards) and which arguments are keys (a range, or a count given in
// the arguments). It reports false, with r reset, when a spec cannot be
// applied (unknown, incomplete, or out of the arguments' bounds).
func (s *Spec) keysFromSpecs(argv [][]byte, r *keyResult) bool {
	argc := len(argv)
	for j := range s.KeySpecs {
		spec := &s.KeySpecs[j]
		flags := parseKeyFlags(spec.Flags)
		if flags&keyNotKey != 0 {
			continue // channels, not keys
		}

		// 1. Where the keys begin.
		first := 0
		switch spec.BeginSearch.Type {
		case "index":
			first = spec.BeginSearch.Index
		case "keyword":
			first = searchKeyword(argv, spec.BeginSearch.Keyword, spec.BeginSearch.StartFrom)
			if first == 0 {
				continue // keyword absent: this spec has no keys here
			}
		default:
			r.reset()
			return false
		}

		// 2. Which arguments are keys: first..last, every step.
		var last, step int
		switch spec.FindKeys.Type {
		case "range":
			fk := &spec.FindKeys
			step = fk.KeyStep
			switch {
			case fk.LastKey >= 0:
				last = first + fk.LastKey
			case fk.Limit == 0:
				last = argc + fk.LastKey
			default:
				// Only lastkey -1 may have a limit: 1/limit of the rest.
				last = first + ((argc-first)/fk.Limit + fk.LastKey)
			}
		case "keynum":
			fk := &spec.FindKeys
			step = fk.KeyStep
			idx := first + fk.KeyNumIdx
			if fk.KeyNumIdx >= argc || idx >= argc {
				r.reset()
				return false
			}
			numkeys, ok := string2ll(argv[idx])
			if !ok || numkeys < 0 {
				r.reset()
				return false
			}
			first += fk.FirstKey
			// Redis stores the count in a C int: keep its truncation.
			last = first + int(int32(numkeys)) - 1
		default:
			r.reset()
			return false
		}
		if last >= argc || last < first || first >= argc || step <= 0 {
			r.reset()
			return false
		}
		for i := first; i <= last; i += step {
			r.add(i, flags)
		}
		if flags&keyIncomplete != 0 {
			r.reset()
			return false
		}
	}
	return true
}

// searchKeyword returns the index after the keyword, searched from startfrom
// towards the end (startfrom > 0) or from argc+startfrom towards the start
// (startfrom < 0), or 0 if it is absent. As in Redis, the search stops before
// the last argument going forwards and before argv[1] going backwards, and
// compares like strcasecmp (ASCII only, up to a NUL).
func searchKeyword(argv [][]byte, keyword string, startfrom int) int {
	argc := len(argv)
	start, end := startfrom, argc-1
	if startfrom <= 0 {
		start, end = argc+startfrom, 1
	}
	for i := start; i != end; {
		if i >= argc || i < 1 {
			break
		}
		if strcaseEqual(argv[i], keyword) {
			return i + 1
		}
		if start <= end {
			i++
		} else {
			i--
		}
	}
	return 0
}

// ---------------------------------------------------------------------------
// Getkeys procs: Redis's per-command key finders (db.c), used when the key
// specs are incomplete or their flags vary with the arguments.
// ---------------------------------------------------------------------------

// getKeysProc identifies the getkeys proc Redis 7.0 declares for a command
// (get_keys_function in src/commands/*.json). Procs are dispatched by a
// switch rather than through function values so that the result buffer
// does not escape to the heap.
type getKeysProc uint8

const (
	procNone getKeysProc = iota
	procKeyNumFirst
	procKeyNumStore
	procKeyNumSecond
	procSort
	procSortRO
	procMigrate
	procGeoradius
	procXread
	procSet
	procBitfield
)

func getKeysProcOf(s *Spec) getKeysProc {
	switch s.FullName {
	case "zunion", "zinter", "zdiff", "zintercard", "sintercard", "lmpop", "zmpop":
		return procKeyNumFirst // COMMAND numkeys key ...
	case "zunionstore", "zinterstore", "zdiffstore":
		return procKeyNumStore // COMMAND dest numkeys key ...
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro", "blmpop", "bzmpop":
		return procKeyNumSecond // COMMAND arg numkeys key ...
	case "sort":
		return procSort
	case "sort_ro":
		return procSortRO
	case "migrate":
		return procMigrate
	case "georadius", "georadiusbymember":
		return procGeoradius
	case "xread", "xreadgroup":
		return procXread
	case "set":
		return procSet
	case "bitfield":
		return procBitfield
	}
	return procNone
}

func (p getKeysProc) run(argv [][]byte, r *keyResult) {
	switch p {
	case procKeyNumFirst:
		genericGetKeys(0, 1, 2, 1, argv, r)
	case procKeyNumStore:
		genericGetKeys(1, 2, 3, 1, argv, r)
	case procKeyNumSecond:
		genericGetKeys(0, 2, 3, 1, argv, r)
	case procSort:
		sortGetKeys(argv, r)
	case procSortRO:
		sortROGetKeys(argv, r)
	case procMigrate:
		migrateGetKeys(argv, r)
	case procGeoradius:
		georadiusGetKeys(argv, r)
	case procXread:
		xreadGetKeys(argv, r)
	case procSet:
		setGetKeys(argv, r)
	case procBitfield:
		bitfieldGetKeys(argv, r)
	}
}

// genericGetKeys finds "[dest] numkeys key ..." keys: numkeys keys from
// firstKeyOfs every keyStep, then the destination key, if storeKeyOfs is
// not 0. The count is read with C's atoi, as Redis does; a count below 1 or
// beyond the arguments yields no keys.
func genericGetKeys(storeKeyOfs, keyCountOfs, firstKeyOfs, keyStep int, argv [][]byte, r *keyResult) {
	if keyCountOfs >= len(argv) {
		return
	}
	num := atoi(argv[keyCountOfs])
	if num < 1 || num > (len(argv)-firstKeyOfs)/keyStep {
		return
	}
	for i := 0; i < num; i++ {
		r.add(firstKeyOfs+i*keyStep, 0)
	}
	if storeKeyOfs != 0 {
		r.add(storeKeyOfs, 0)
	}
}

// sortROGetKeys: SORT_RO key ...: only the sorted key (BY and GET patterns
// name keys that cannot be known in advance).
func sortROGetKeys(argv [][]byte, r *keyResult) { r.add(1, keyRO|keyAccess) }

// sortGetKeys: SORT key ... [STORE dest] ...: the sorted key and the last
// STORE destination, skipping the arguments of LIMIT, GET and BY.
func sortGetKeys(argv [][]byte, r *keyResult) {
	r.add(1, keyRO|keyAccess)
	store := 0
	for i := 2; i < len(argv); i++ {
		switch {
		case strcaseEqual(argv[i], "limit"):
			i += 2
		case strcaseEqual(argv[i], "get"), strcaseEqual(argv[i], "by"):
			i++
		case strcaseEqual(argv[i], "store") && i+1 < len(argv):
			store = i + 1
		}
	}
	if store != 0 {
		r.add(store, keyOW|keyUpdate)
	}
}

// migrateGetKeys: MIGRATE host port key|"" db timeout [COPY] [REPLACE]
// [AUTH pw] [AUTH2 user pw] [KEYS key ...].
func migrateGetKeys(argv [][]byte, r *keyResult) {
	first, num := 3, 1
	if len(argv) > 6 {
	scan:
		for i := 6; i < len(argv); i++ {
			switch {
			case strcaseEqual(argv[i], "keys"):
				if len(argv[3]) > 0 {
					// A key and KEYS together is a syntax error that
					// MIGRATE itself reports.
					num = 0
				} else {
					first = i + 1
					num = len(argv) - first
				}
				break scan
			case strcaseEqual(argv[i], "auth"):
				i++
			case strcaseEqual(argv[i], "auth2"):
				i += 2
			}
		}
	}
	for i := 0; i < num; i++ {
		r.add(first+i, keyRW|keyAccess|keyDelete)
	}
}

// georadiusGetKeys: GEORADIUS[BYMEMBER] key ... [STORE|STOREDIST dest]: the
// key and the last destination.
func georadiusGetKeys(argv [][]byte, r *keyResult) {
	stored := -1
	for i := 5; i < len(argv); i++ {
		if (strcaseEqual(argv[i], "store") || strcaseEqual(argv[i], "storedist")) && i+1 < len(argv) {
			stored = i + 1
			i++
		}
	}
	r.add(1, 0)
	if stored != -1 {
		r.add(stored, 0)
	}
}

// xreadGetKeys: XREAD[GROUP] [options] STREAMS key ... id ...: half of the
// arguments after the first STREAMS that is not an option's value.
func xreadGetKeys(argv [][]byte, r *keyResult) {
	streamsPos := -1
scan:
	for i := 1; i < len(argv); i++ {
		switch {
		case strcaseEqual(argv[i], "block"), strcaseEqual(argv[i], "count"):
			i++
		case strcaseEqual(argv[i], "group"):
			i += 2
		case strcaseEqual(argv[i], "noack"):
		case strcaseEqual(argv[i], "streams"):
			streamsPos = i
			break scan
		default:
			break scan // syntax error
		}
	}
	if streamsPos == -1 {
		return
	}
	num := len(argv) - streamsPos - 1
	if num == 0 || num%2 != 0 {
		return
	}
	num /= 2
	for i := streamsPos + 1; i < len(argv)-num; i++ {
		r.add(i, 0)
	}
}

// setGetKeys: SET key value [... GET ...]: the key is read too with GET.
func setGetKeys(argv [][]byte, r *keyResult) {
	for i := 3; i < len(argv); i++ {
		a := argv[i]
		if len(a) >= 3 && a[0]|0x20 == 'g' && a[1]|0x20 == 'e' && a[2]|0x20 == 't' && (len(a) == 3 || a[3] == 0) {
			r.add(1, keyRW|keyAccess|keyUpdate)
			return
		}
	}
	r.add(1, keyOW|keyUpdate)
}

// bitfieldGetKeys: BITFIELD key [GET ...] [SET ...] [INCRBY ...]
// [OVERFLOW ...]: read-only when only GET and OVERFLOW are used.
func bitfieldGetKeys(argv [][]byte, r *keyResult) {
	readonly := true
	for i := 2; i < len(argv); i++ {
		remargs := len(argv) - i - 1
		switch {
		case strcaseEqual(argv[i], "get") && remargs >= 2:
			i += 2
		case (strcaseEqual(argv[i], "set") || strcaseEqual(argv[i], "incrby")) && remargs >= 3:
			readonly = false
			i = len(argv)
		case strcaseEqual(argv[i], "overflow") && remargs >= 1:
			i++
		default:
			readonly = false // a syntax error: assume a write
			i = len(argv)
		}
	}
	if readonly {
		r.add(1, keyRO|keyAccess)
	} else {
		r.add(1, keyRW|keyAccess|keyUpdate)
	}
}

// ---------------------------------------------------------------------------
// C string helpers: Redis compares these arguments as NUL-terminated strings.
// ---------------------------------------------------------------------------

// strcaseEqual is strcasecmp(arg, s) == 0 for an ASCII s without NUL: the
// argument is cut at its first NUL and compared ignoring ASCII case.
func strcaseEqual(arg []byte, s string) bool {
	for i, c := range arg {
		if c == 0 {
			arg = arg[:i]
			break
		}
	}
	if len(arg) != len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := arg[i], s[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// atoi is glibc's atoi: (int)strtol(s, NULL, 10). Leading white space and a
// sign are accepted, parsing stops at the first non-digit, overflow clamps
// to the int64 range and the result is truncated to 32 bits.
func atoi(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	var v uint64
	overflow := false
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if v > (math.MaxUint64-9)/10 {
			overflow = true
			continue
		}
		v = v*10 + uint64(b[i]-'0')
	}
	var n int64
	switch {
	case !neg && (overflow || v > math.MaxInt64):
		n = math.MaxInt64
	case neg && (overflow || v > 1<<63):
		n = math.MinInt64
	case neg:
		n = -int64(v)
	default:
		n = int64(v)
	}
	return int(int32(n))
}

// string2ll is Redis's strict integer parser: an optional '-', digits
// without leading zeros (except "0"), no spaces, no '+', within int64.
func string2ll(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}
