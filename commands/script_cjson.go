package commands

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// ---------------------------------------------------------------------------
// cjson: lua-cjson 2.1.0 as bundled with Redis. Numbers are written with
// "%.14g" (encode_number_precision), an empty table is an object, a table
// is an array when its keys are exactly 1..n (or sparse within
// encode_sparse_array's limits), '/' is escaped, and JSON null decodes to
// cjson.null (a light userdata that encodes back to null).
// ---------------------------------------------------------------------------

type cjsonConfig struct {
	sparseConvert  bool
	sparseRatio    int
	sparseSafe     int
	encodeMaxDepth int
	decodeMaxDepth int
	precision      int
	invalidEncode  int // 0 off, 1 on, 2 "null"
	invalidDecode  bool
	keepBuffer     bool
}

// nullPointer marks a userdata that stands for a C NULL light userdata
// (cjson.null): tostring shows it as "userdata: (nil)", as glibc's %p does.
type nullPointer struct{}

func defaultCjsonConfig() *cjsonConfig {
	return &cjsonConfig{sparseRatio: 2, sparseSafe: 10, encodeMaxDepth: 1000, decodeMaxDepth: 1000,
		precision: 14, invalidDecode: true, keepBuffer: true}
}

func (vm *luaVM) cjsonLib() *lua.LTable {
	if vm.cjsonNull == nil {
		vm.cjsonNull = vm.L.NewUserData()
		vm.cjsonNull.Value = nullPointer{}
	}
	return vm.newCjson(defaultCjsonConfig())
}

func (vm *luaVM) newCjson(cfg *cjsonConfig) *lua.LTable {
	L := vm.L
	t := L.NewTable()
	set := func(name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }
	set("encode", func(L *lua.LState) int {
		if L.GetTop() != 1 {
			luaArgError(L, 1, "expected 1 argument")
		}
		enc := cjsonEncoder{L: L, cfg: cfg, null: vm.cjsonNull, vm: vm}
		enc.value(L.Get(1), 0)
		L.Push(lua.LString(enc.b))
		return 1
	})
	set("decode", func(L *lua.LState) int {
		if L.GetTop() != 1 {
			luaArgError(L, 1, "expected 1 argument")
		}
		s := luaCheckString(L, 1)
		dec := cjsonDecoder{L: L, cfg: cfg, null: vm.cjsonNull, s: s}
		L.Push(dec.decode())
		return 1
	})
	set("encode_sparse_array", func(L *lua.LState) int {
		if L.GetTop() > 3 {
			luaArgError(L, 4, "found too many arguments")
		}
		if L.GetTop() >= 1 && L.Get(1) != lua.LNil {
			cfg.sparseConvert = cjsonBool(L, 1)
		}
		if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
			cfg.sparseRatio = cjsonInt(L, 2, 0, math.MaxInt32)
		}
		if L.GetTop() >= 3 && L.Get(3) != lua.LNil {
			cfg.sparseSafe = cjsonInt(L, 3, 0, math.MaxInt32)
		}
		L.Push(lua.LBool(cfg.sparseConvert))
		L.Push(lua.LNumber(cfg.sparseRatio))
		L.Push(lua.LNumber(cfg.sparseSafe))
		return 3
	})
	intOpt := func(name string, field *int, min, max int) {
		set(name, func(L *lua.LState) int {
			if L.GetTop() > 1 {
				luaArgError(L, 2, "found too many arguments")
			}
			if L.GetTop() == 1 && L.Get(1) != lua.LNil {
				*field = cjsonInt(L, 1, min, max)
			}
			L.Push(lua.LNumber(*field))
			return 1
		})
	}
	intOpt("encode_max_depth", &cfg.encodeMaxDepth, 1, math.MaxInt32)
	intOpt("decode_max_depth", &cfg.decodeMaxDepth, 1, math.MaxInt32)
	intOpt("encode_number_precision", &cfg.precision, 1, 14)
	set("encode_keep_buffer", func(L *lua.LState) int {
		if L.GetTop() == 1 && L.Get(1) != lua.LNil {
			cfg.keepBuffer = cjsonBool(L, 1)
		}
		L.Push(lua.LBool(cfg.keepBuffer))
		return 1
	})
	set("encode_invalid_numbers", func(L *lua.LState) int {
		if L.GetTop() == 1 && L.Get(1) != lua.LNil {
			if s, ok := L.Get(1).(lua.LString); ok && s == "null" {
				cfg.invalidEncode = 2
			} else if cjsonBool(L, 1) {
				cfg.invalidEncode = 1
			} else {
				cfg.invalidEncode = 0
			}
		}
		switch cfg.invalidEncode {
		case 2:
			L.Push(lua.LString("null"))
		default:
			L.Push(lua.LBool(cfg.invalidEncode == 1))
		}
		return 1
	})
	set("decode_invalid_numbers", func(L *lua.LState) int {
		if L.GetTop() == 1 && L.Get(1) != lua.LNil {
			cfg.invalidDecode = cjsonBool(L, 1)
		}
		L.Push(lua.LBool(cfg.invalidDecode))
		return 1
	})
	set("new", func(L *lua.LState) int {
		L.Push(vm.newCjson(defaultCjsonConfig()))
		return 1
	})
	t.RawSetString("null", vm.cjsonNull)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	return t
}

// cjsonBool reads a boolean option ("on"/"off" are accepted as in
// lua-cjson's json_enum_option).
func cjsonBool(L *lua.LState, n int) bool {
	switch v := L.Get(n).(type) {
	case lua.LBool:
		return bool(v)
	case lua.LString:
		switch v {
		case "on":
			return true
		case "off":
			return false
		}
		luaArgError(L, n, "invalid option '"+string(v)+"'")
	}
	luaArgError(L, n, "boolean expected, got "+luaTypeName(L, n))
	return false
}

func cjsonInt(L *lua.LState, n, min, max int) int {
	v := int(luaCheckNumber(L, n))
	if v < min || v > max {
		luaArgError(L, n, "expected integer between "+strconv.Itoa(min)+" and "+strconv.Itoa(max))
	}
	return v
}

// ---- encoding ----

type cjsonEncoder struct {
	L    *lua.LState
	cfg  *cjsonConfig
	null *lua.LUserData
	vm   *luaVM
	b    []byte
}

func (e *cjsonEncoder) fail(v lua.LValue, reason string) {
	e.L.RaiseError("Cannot serialise %s: %s", v.Type().String(), reason)
}

func (e *cjsonEncoder) value(v lua.LValue, depth int) {
	switch x := v.(type) {
	case lua.LString:
		e.str(string(x))
	case lua.LNumber:
		e.number(v, float64(x))
	case lua.LBool:
		if x {
			e.b = append(e.b, "true"...)
		} else {
			e.b = append(e.b, "false"...)
		}
	case *lua.LTable:
		depth++
		if depth > e.cfg.encodeMaxDepth {
			e.L.RaiseError("Cannot serialise, excessive nesting (%d)", depth)
		}
		t := e.vm.real(x)
		n := e.arrayLen(x, t)
		if n > 0 {
			e.b = append(e.b, '[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					e.b = append(e.b, ',')
				}
				e.value(t.RawGetInt(i), depth)
			}
			e.b = append(e.b, ']')
			return
		}
		e.b = append(e.b, '{')
		first := true
		for k, val := t.Next(lua.LNil); k != lua.LNil; k, val = t.Next(k) {
			if !first {
				e.b = append(e.b, ',')
			}
			first = false
			switch kk := k.(type) {
			case lua.LString:
				e.str(string(kk))
			case lua.LNumber:
				e.b = append(e.b, '"')
				e.number(k, float64(kk))
				e.b = append(e.b, '"')
			default:
				e.fail(k, "table key must be a number or string")
			}
			e.b = append(e.b, ':')
			e.value(val, depth)
		}
		e.b = append(e.b, '}')
	case *lua.LUserData:
		if x == e.null {
			e.b = append(e.b, "null"...)
			return
		}
		e.fail(v, "type not supported")
	default:
		if v == lua.LNil {
			e.b = append(e.b, "null"...)
			return
		}
		e.fail(v, "type not supported")
	}
}

// arrayLen is lua_array_length: n for an array 1..n, 0 for an object.
func (e *cjsonEncoder) arrayLen(orig, t *lua.LTable) int {
	maxIdx, items := 0, 0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n, ok := k.(lua.LNumber)
		f := float64(n)
		if !ok || f < 1 || math.Floor(f) != f {
			return 0
		}
		if int(f) > maxIdx {
			maxIdx = int(f)
		}
		items++
	}
	if e.cfg.sparseRatio > 0 && maxIdx > items*e.cfg.sparseRatio && maxIdx > e.cfg.sparseSafe {
		if !e.cfg.sparseConvert {
			e.fail(orig, "excessively sparse array")
		}
		return 0
	}
	return maxIdx
}

func (e *cjsonEncoder) number(v lua.LValue, f float64) {
	if math.IsInf(f, 0) || f != f {
		switch e.cfg.invalidEncode {
		case 0:
			e.fail(v, "must not be NaN or Inf")
		case 2:
			e.b = append(e.b, "null"...)
			return
		}
		switch {
		case f != f:
			e.b = append(e.b, "nan"...)
		case f > 0:
			e.b = append(e.b, "inf"...)
		default:
			e.b = append(e.b, "-inf"...)
		}
		return
	}
	e.b = appendCFloat(e.b, f, e.cfg.precision)
}

const cjsonHex = "0123456789abcdef"

func (e *cjsonEncoder) str(s string) {
	b := append(e.b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '/':
			b = append(b, '\\', '/')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 || c == 0x7f {
				b = append(b, '\\', 'u', '0', '0', cjsonHex[c>>4], cjsonHex[c&15])
			} else {
				b = append(b, c)
			}
		}
	}
	e.b = append(b, '"')
}

// ---- decoding ----

type cjsonDecoder struct {
	L     *lua.LState
	cfg   *cjsonConfig
	null  *lua.LUserData
	s     string
	p     int
	depth int
}

const (
	tokObjBegin = iota
	tokObjEnd
	tokArrBegin
	tokArrEnd
	tokString
	tokNumber
	tokBoolean
	tokNull
	tokColon
	tokComma
	tokEnd
	tokWhitespace
	tokError
	tokUnknown
)

var cjsonTokenNames = [...]string{"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END", "T_WHITESPACE", "T_ERROR", "T_UNKNOWN"}

type cjsonToken struct {
	typ   int
	index int
	str   string // T_STRING's value, T_ERROR's message
	num   float64
	b     bool
}

// at is the byte at i, 0 past the end (the input is a C string to cjson).
func (d *cjsonDecoder) at(i int) byte {
	if i < len(d.s) {
		return d.s[i]
	}
	return 0
}

func (d *cjsonDecoder) decode() lua.LValue {
	v := d.value(d.next())
	t := d.next()
	if t.typ != tokEnd {
		d.fail("the end", t)
	}
	return v
}

func (d *cjsonDecoder) fail(exp string, t cjsonToken) {
	found := cjsonTokenNames[t.typ]
	if t.typ == tokError {
		found = t.str
	}
	d.L.RaiseError("Expected %s but found %s at character %d", exp, found, t.index+1)
}

func (d *cjsonDecoder) descend() {
	d.depth++
	if d.depth > d.cfg.decodeMaxDepth {
		d.L.RaiseError("Found too many nested data structures (%d) at character %d", d.depth, d.p)
	}
}

func (d *cjsonDecoder) value(t cjsonToken) lua.LValue {
	L := d.L
	switch t.typ {
	case tokString:
		return lua.LString(t.str)
	case tokNumber:
		return lua.LNumber(t.num)
	case tokBoolean:
		return lua.LBool(t.b)
	case tokNull:
		return d.null
	case tokObjBegin:
		d.descend()
		tbl := L.NewTable()
		t = d.next()
		if t.typ == tokObjEnd {
			d.depth--
			return tbl
		}
		for {
			if t.typ != tokString {
				d.fail("object key string", t)
			}
			key := t.str
			t = d.next()
			if t.typ != tokColon {
				d.fail("colon", t)
			}
			tbl.RawSetString(key, d.value(d.next()))
			t = d.next()
			if t.typ == tokObjEnd {
				d.depth--
				return tbl
			}
			if t.typ != tokComma {
				d.fail("comma or object end", t)
			}
			t = d.next()
		}
	case tokArrBegin:
		d.descend()
		tbl := L.NewTable()
		t = d.next()
		if t.typ == tokArrEnd {
			d.depth--
			return tbl
		}
		for i := 1; ; i++ {
			tbl.RawSetInt(i, d.value(t))
			t = d.next()
			if t.typ == tokArrEnd {
				d.depth--
				return tbl
			}
			if t.typ != tokComma {
				d.fail("comma or array end", t)
			}
			t = d.next()
		}
	}
	d.fail("value", t)
	return lua.LNil
}

func (d *cjsonDecoder) next() cjsonToken {
	for {
		c := d.at(d.p)
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			d.p++
			continue
		}
		break
	}
	t := cjsonToken{index: d.p}
	c := d.at(d.p)
	switch c {
	case 0:
		t.typ = tokEnd
		return t
	case '{':
		t.typ = tokObjBegin
	case '}':
		t.typ = tokObjEnd
	case '[':
		t.typ = tokArrBegin
	case ']':
		t.typ = tokArrEnd
	case ':':
		t.typ = tokColon
	case ',':
		t.typ = tokComma
	case '"':
		return d.str()
	default:
		rest := d.s[d.p:]
		switch {
		case c == '-' || isDigit(c):
			if !d.cfg.invalidDecode && d.invalidNumber() {
				return d.errTok("invalid number")
			}
			return d.number()
		case strings.HasPrefix(rest, "true"):
			t.typ, t.b = tokBoolean, true
			d.p += 4
			return t
		case strings.HasPrefix(rest, "false"):
			t.typ, t.b = tokBoolean, false
			d.p += 5
			return t
		case strings.HasPrefix(rest, "null"):
			t.typ = tokNull
			d.p += 4
			return t
		case d.cfg.invalidDecode && d.invalidNumber():
			return d.number()
		}
		return d.errTok("invalid token")
	}
	d.p++
	return t
}

func (d *cjsonDecoder) errTok(msg string) cjsonToken {
	return cjsonToken{typ: tokError, index: d.p, str: msg}
}

// invalidNumber is json_is_invalid_number: JSON-invalid but strtod-valid
// forms (+1, hex, leading zeros, inf, nan).
func (d *cjsonDecoder) invalidNumber() bool {
	p := d.p
	if d.at(p) == '+' {
		return true
	}
	if d.at(p) == '-' {
		p++
	}
	if d.at(p) == '0' {
		c2 := d.at(p + 1)
		return c2|0x20 == 'x' || isDigit(c2)
	} else if d.at(p) <= '9' {
		return false
	}
	rest := strings.ToLower(d.s[p:min(p+3, len(d.s))])
	return rest == "inf" || rest == "nan"
}

func (d *cjsonDecoder) number() cjsonToken {
	t := cjsonToken{typ: tokNumber, index: d.p}
	// strtod's longest prefix lies within these bytes: only they are copied.
	end := d.p
	for end < len(d.s) && (isAlnum(d.s[end]) || strings.IndexByte("+-.()_", d.s[end]) >= 0) {
		end++
	}
	f, n, _ := zstrtod([]byte(d.s[d.p:end]))
	if n == 0 {
		return d.errTok("invalid number")
	}
	t.num = f
	d.p += n
	return t
}

func (d *cjsonDecoder) str() cjsonToken {
	t := cjsonToken{typ: tokString, index: d.p}
	d.p++ // opening quote
	var b []byte
	for {
		c := d.at(d.p)
		if c == '"' {
			break
		}
		if c == 0 {
			return d.errTok("unexpected end of string")
		}
		if c != '\\' {
			b = append(b, c)
			d.p++
			continue
		}
		esc := d.at(d.p + 1)
		switch esc {
		case '"', '\\', '/':
			b = append(b, esc)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, n := d.unicodeEscape()
			if n < 0 {
				return d.errTok("invalid unicode escape code")
			}
			b = utf8.AppendRune(b, r)
			d.p += n
			continue
		default:
			return d.errTok("invalid escape code")
		}
		d.p += 2
	}
	d.p++ // closing quote
	t.str = string(b)
	return t
}

// unicodeEscape decodes \uXXXX (and a following low surrogate) at d.p: the
// code point and the bytes consumed, or n < 0.
func (d *cjsonDecoder) unicodeEscape() (rune, int) {
	hex4 := func(p int) int {
		if p+4 > len(d.s) {
			return -1
		}
		v, err := strconv.ParseUint(d.s[p:p+4], 16, 32)
		if err != nil {
			return -1
		}
		return int(v)
	}
	cp := hex4(d.p + 2)
	if cp < 0 {
		return 0, -1
	}
	if cp&0xfc00 == 0xdc00 {
		return 0, -1 // a lone low surrogate
	}
	if cp&0xfc00 == 0xd800 {
		if d.at(d.p+6) != '\\' || d.at(d.p+7) != 'u' {
			return 0, -1
		}
		lo := hex4(d.p + 8)
		if lo < 0 || lo&0xfc00 != 0xdc00 {
			return 0, -1
		}
		return rune((cp&0x3ff)<<10|(lo&0x3ff)) + 0x10000, 12
	}
	return rune(cp), 6
}
