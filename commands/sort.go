package commands

import (
	"bytes"
	"math"
	"sort"

	"spinel/commands/keyspace"
)

var sortCommands = []cmdDef{
	{"sort", cmdSort, 0},
	{"sort_ro", cmdSortRO, 0},
}

const sortstoreEvent = "sortstore"

// sortItem is one element being sorted, as Redis's redisSortObject.
type sortItem struct {
	obj    []byte
	score  float64
	cmpobj []byte // the BY value for ALPHA sorts; nil when missing
}

func cmdSort(c *Client, args [][]byte)   { c.srv.sortGeneric(c, args, false) }
func cmdSortRO(c *Client, args [][]byte) { c.srv.sortGeneric(c, args, true) }

// sortGeneric implements SORT and SORT_RO as Redis's sortCommandGeneric,
// option by option, including its LIMIT arithmetic, its direct loading of
// lists and sorted sets when nothing is to be sorted, and its tie-breaking.
func (s *Server) sortGeneric(c *Client, args [][]byte, readonly bool) {
	var (
		desc, alpha, dontsort bool
		limitStart            int64
		limitCount            int64 = -1
		storeKey, sortBy      []byte
		getPatterns           [][]byte
	)
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		opt := args[j]
		switch {
		case equalFold(opt, "asc"):
			desc = false
		case equalFold(opt, "desc"):
			desc = true
		case equalFold(opt, "alpha"):
			alpha = true
		case equalFold(opt, "limit") && left >= 2:
			a, ok1 := parseInt(args[j+1])
			b, ok2 := parseInt(args[j+2])
			if !ok1 || !ok2 {
				c.addError(ErrNotInteger)
				return
			}
			limitStart, limitCount = a, b
			j += 2
		case !readonly && equalFold(opt, "store") && left >= 1:
			storeKey = args[j+1]
			j++
		case equalFold(opt, "by") && left >= 1:
			sortBy = args[j+1]
			if bytes.IndexByte(sortBy, '*') < 0 {
				dontsort = true
			}
			j++
		case equalFold(opt, "get") && left >= 1:
			getPatterns = append(getPatterns, args[j+1])
			j++
		default:
			c.addError(ErrSyntax)
			return
		}
	}

	var r Ref
	if storeKey != nil {
		r = s.lookupWrite(c, args[1])
	} else {
		r = s.lookupRead(c, args[1])
	}
	typ := keyspace.TypeList
	if r != 0 {
		typ = c.db.kv.Type(r)
		if typ != keyspace.TypeList && typ != keyspace.TypeSet && typ != keyspace.TypeZSet {
			c.addError(ErrWrongType)
			return
		}
	}
	// A set has no order of its own: when storing, sort it so the result
	// does not depend on the server (Redis does the same for scripts).
	if dontsort && typ == keyspace.TypeSet && storeKey != nil {
		dontsort, alpha, sortBy = false, true, nil
	}

	// The elements, in the type's native order.
	var elems [][]byte
	if r != 0 {
		switch o := c.db.kv.Object(r).(type) {
		case *quicklist:
			o.each(func(v []byte) bool { elems = append(elems, append([]byte(nil), v...)); return true })
		case *setObject:
			o.each(func(m []byte) bool { elems = append(elems, append([]byte(nil), m...)); return true })
		case *zsetObject:
			// Redis converts a listpack sorted set for SORT, for good.
			if o.sl == nil {
				o.convertToSkiplist(o.Len())
				s.noteObjectChange(c.db, args[1])
			}
			for p := o.head(); p >= 0; p = o.next(p) {
				m, _ := o.at(p)
				elems = append(elems, append([]byte(nil), m...))
			}
		}
	}
	n := int64(len(elems))

	// LIMIT sanity checking, as Redis.
	start := max(limitStart, 0)
	end := n - 1
	if limitCount >= 0 {
		end = start + limitCount - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	if end >= n {
		end = n - 1
	}

	items := make([]sortItem, 0, len(elems))
	if dontsort && (typ == keyspace.TypeList || typ == keyspace.TypeZSet) {
		// Loaded directly in native order (reversed for DESC), and only
		// the requested range.
		if desc {
			for i, j := 0, len(elems)-1; i < j; i, j = i+1, j-1 {
				elems[i], elems[j] = elems[j], elems[i]
			}
		}
		if start <= end && start >= 0 {
			for _, e := range elems[start : end+1] {
				items = append(items, sortItem{obj: e})
			}
		}
		end -= start
		start = 0
	} else {
		for _, e := range elems {
			items = append(items, sortItem{obj: e})
		}
	}

	convErr := false
	if !dontsort {
		for i := range items {
			it := &items[i]
			var byval []byte
			if sortBy != nil {
				v, ok := s.lookupByPattern(c, sortBy, it.obj)
				if !ok {
					continue
				}
				byval = v
			} else {
				byval = it.obj
			}
			if alpha {
				if sortBy != nil {
					it.cmpobj = byval
				}
				continue
			}
			f, ok := strtod(byval)
			if !ok {
				convErr = true
			}
			it.score = f
		}
		less := func(a, b *sortItem) int {
			var cmp int
			switch {
			case !alpha:
				switch {
				case a.score > b.score:
					cmp = 1
				case a.score < b.score:
					cmp = -1
				default:
					cmp = bytes.Compare(a.obj, b.obj)
				}
			case sortBy != nil:
				switch {
				case a.cmpobj == nil && b.cmpobj == nil:
					cmp = 0
				case a.cmpobj == nil:
					cmp = -1
				case b.cmpobj == nil:
					cmp = 1
				default:
					cmp = bytes.Compare(a.cmpobj, b.cmpobj)
				}
			default:
				cmp = bytes.Compare(a.obj, b.obj)
			}
			if desc {
				cmp = -cmp
			}
			return cmp
		}
		sort.SliceStable(items, func(i, j int) bool { return less(&items[i], &items[j]) < 0 })
	}

	outLen := end - start + 1
	if outLen < 0 {
		outLen = 0
	}
	if len(getPatterns) > 0 {
		outLen *= int64(len(getPatterns))
	}
	switch {
	case convErr:
		c.addError("ERR One or more scores can't be converted into double")
	case storeKey == nil:
		c.addArrayLen(int(outLen))
		for j := start; j <= end; j++ {
			it := items[j]
			if len(getPatterns) == 0 {
				c.addBulk(it.obj)
			}
			for _, pat := range getPatterns {
				if v, ok := s.lookupByPattern(c, pat, it.obj); ok {
					c.addBulk(v)
				} else {
					c.addNull()
				}
			}
		}
	default:
		list := s.newListObject()
		for j := start; j <= end; j++ {
			it := items[j]
			if len(getPatterns) == 0 {
				list.push(it.obj, false)
			}
			for _, pat := range getPatterns {
				v, _ := s.lookupByPattern(c, pat, it.obj)
				list.push(append([]byte(nil), v...), false)
			}
		}
		if outLen > 0 {
			s.replaceObject(c.db, storeKey, keyspace.TypeList, list)
			s.signalModifiedKey(c.db, storeKey)
			s.notify(c.db, notifyList, sortstoreEvent, storeKey)
			s.dirty += outLen
		} else if d := s.lookupWriteDB(c.db, storeKey, false); d != 0 {
			s.dbDelete(c.db, d)
			s.notify(c.db, notifyGeneric, "del", storeKey)
			s.dirty++
		}
		c.addInt(outLen)
	}
}

// lookupByPattern resolves a SORT BY/GET pattern for one element, as
// Redis's lookupKeyByPattern: "#" is the element itself; the first '*' is
// replaced by the element; "->field" after it reads a hash field. It reports
// false when there is no such value (no '*', missing key, wrong type).
func (s *Server) lookupByPattern(c *Client, pattern, subst []byte) ([]byte, bool) {
	if len(pattern) == 1 && pattern[0] == '#' {
		return subst, true
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false
	}
	var field []byte
	keyPat := pattern
	if f := bytes.Index(pattern[star+1:], []byte("->")); f >= 0 && star+1+f+2 < len(pattern) {
		field = pattern[star+1+f+2:]
		keyPat = pattern[:star+1+f]
	}
	key := make([]byte, 0, len(keyPat)+len(subst))
	key = append(key, keyPat[:star]...)
	key = append(key, subst...)
	key = append(key, keyPat[star+1:]...)
	r := s.lookupRead(c, key)
	if r == 0 {
		return nil, false
	}
	kv := c.db.kv
	if field != nil {
		if kv.Type(r) != keyspace.TypeHash {
			return nil, false
		}
		v, ok := kv.Object(r).(*hashObject).get(field)
		if !ok {
			return nil, false
		}
		return append([]byte(nil), v...), true
	}
	if kv.Type(r) != keyspace.TypeString {
		return nil, false
	}
	return append([]byte(nil), kv.Str(r)...), true
}

// strtod parses a BY value as SORT does: C's strtod, where leading blanks
// are skipped, an empty value reads as 0, and trailing junk, overflow and
// NaN are errors.
func strtod(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	f, ok := parseFloat(b[i:])
	if !ok || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}
