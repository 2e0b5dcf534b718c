package glob

// maxNesting is Redis's recursion limit: a pattern needing more nested '*'
// expansions than this never matches.
const maxNesting = 1000

// Match reports whether s matches pattern, with Redis's semantics.
func Match(pattern, s []byte, nocase bool) bool {
	m := matcher{nocase: nocase}
	return match(&m, pattern, s, 0)
}

// MatchString is Match for strings; it does not allocate.
func MatchString(pattern, s string, nocase bool) bool {
	m := matcher{nocase: nocase}
	return match(&m, pattern, s, 0)
}

// text is what the matcher works on; being generic lets MatchString run
// without copying its arguments into byte slices.
type text interface{ ~string | ~[]byte }

type matcher struct {
	nocase bool
	// skipLongerMatches is shared by every recursion level, as the pointer
	// argument is in Redis: set once the tail after some '*' cannot match
	// anywhere in the remaining subject.
	skipLongerMatches bool
}

// at returns p[i], or 0 past the end. Redis patterns are NUL-terminated sds
// strings and stringmatchlen reads that terminator in a few places (for
// example "[" and "[^" at the end of a pattern); returning 0 reproduces it.
func at[T text](p T, i int) byte {
	if i < len(p) {
		return p[i]
	}
	return 0
}

// lower is C's tolower in the C locale: ASCII letters only.
func lower(c int) int {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// match mirrors stringmatchlen_impl; pattern and s are advanced by
// reslicing where the C code advances pointers.
func match[T text](m *matcher, pattern, s T, nesting int) bool {
	if nesting > maxNesting {
		return false
	}
	for len(pattern) > 0 && len(s) > 0 {
		switch pattern[0] {
		case '*':
			for len(pattern) > 0 && at(pattern, 1) == '*' {
				pattern = pattern[1:]
			}
			if len(pattern) == 1 {
				return true
			}
			for len(s) > 0 {
				if match(m, pattern[1:], s, nesting+1) {
					return true
				}
				if m.skipLongerMatches {
					return false
				}
				s = s[1:]
			}
			// The tail matched nowhere in the rest of s, so letting any
			// earlier '*' swallow more bytes cannot help either.
			m.skipLongerMatches = true
			return false
		case '?':
			s = s[1:]
		case '[':
			var ok bool
			if pattern, ok = matchClass(m, pattern, s[0]); !ok {
				return false
			}
			s = s[1:]
		case '\\':
			if len(pattern) >= 2 {
				pattern = pattern[1:]
			}
			fallthrough
		default:
			if !m.equal(pattern[0], s[0]) {
				return false
			}
			s = s[1:]
		}
		pattern = pattern[1:]
		if len(s) == 0 {
			for len(pattern) > 0 && pattern[0] == '*' {
				pattern = pattern[1:]
			}
		}
	}
	return len(pattern) == 0 && len(s) == 0
}

// matchClass matches c against the bracket expression starting at
// pattern[0] == '['. It returns the pattern positioned on the closing ']'
// (or on the last byte when the set is unterminated), as Redis leaves its
// pointer, and whether c is in the set.
func matchClass[T text](m *matcher, pattern T, c byte) (T, bool) {
	// Back up by one is needed for an unterminated set, so keep the index
	// into the original slice rather than reslicing.
	i := 1
	not := at(pattern, i) == '^'
	if not {
		i++
	}
	match := false
	for {
		rest := len(pattern) - i
		switch {
		case at(pattern, i) == '\\' && rest >= 2:
			i++
			if pattern[i] == c {
				match = true
			}
		case at(pattern, i) == ']':
			goto done
		case rest == 0:
			i--
			goto done
		case rest >= 3 && pattern[i+1] == '-':
			// Redis compares plain (signed) chars here, so bytes >= 0x80
			// sort below ASCII; int8 keeps that ordering.
			start, end, x := int(int8(pattern[i])), int(int8(pattern[i+2])), int(int8(c))
			if start > end {
				start, end = end, start
			}
			if m.nocase {
				start, end, x = lower(start), lower(end), lower(x)
			}
			i += 2
			if x >= start && x <= end {
				match = true
			}
		default:
			if m.equal(pattern[i], c) {
				match = true
			}
		}
		i++
	}
done:
	if not {
		match = !match
	}
	return pattern[i:], match
}

func (m *matcher) equal(a, b byte) bool {
	if m.nocase {
		return lower(int(a)) == lower(int(b))
	}
	return a == b
}
