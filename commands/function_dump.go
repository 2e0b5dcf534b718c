package commands

import (
	"encoding/binary"
	"hash/crc64"
)

// ---------------------------------------------------------------------------
// FUNCTION DUMP's payload, as Redis 7.0 writes it (rdbSaveFunctions plus
// the DUMP trailer): for each library the RDB_OPCODE_FUNCTION2 opcode and
// its code as an RDB string (LZF-compressed when longer than 20 bytes and
// compression saves at least 4 bytes, as with rdbcompression yes), then the
// RDB version (2 bytes, little-endian) and the CRC64 (Jones polynomial, 8
// bytes, little-endian) of everything before it.
// ---------------------------------------------------------------------------

const (
	rdbOpcodeFunctionPreGA = 246
	rdbOpcodeFunction2     = 245
	rdbVersion             = 10 // Redis 7.0

	rdbEncVal   = 3
	rdbEncInt8  = 0
	rdbEncInt16 = 1
	rdbEncInt32 = 2
	rdbEncLZF   = 3
)

// crcJones is Redis's crc64 table (the Jones polynomial, reflected).
var crcJones = crc64.MakeTable(0x95AC9329AC4BC9B5)

// redisCRC64 is Redis's crc64(crc, p): no initial or final inversion.
func redisCRC64(crc uint64, p []byte) uint64 {
	return ^crc64.Update(^crc, crcJones, p)
}

// functionDumpPayload builds FUNCTION DUMP's reply from the libraries' code.
func functionDumpPayload(codes []string) []byte {
	var b []byte
	for _, code := range codes {
		b = append(b, rdbOpcodeFunction2)
		b = appendRDBString(b, []byte(code))
	}
	b = append(b, rdbVersion&0xff, rdbVersion>>8)
	return binary.LittleEndian.AppendUint64(b, redisCRC64(0, b))
}

// appendRDBLen is rdbSaveLen.
func appendRDBLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= 0xffffffff:
		b = append(b, 0x80)
		return binary.BigEndian.AppendUint32(b, uint32(n))
	default:
		b = append(b, 0x81)
		return binary.BigEndian.AppendUint64(b, n)
	}
}

// appendRDBString is rdbSaveRawString for a string that is not an integer.
func appendRDBString(b, s []byte) []byte {
	if len(s) > 20 {
		if c := lzfCompress(s, len(s)-4); c != nil {
			b = append(b, rdbEncVal<<6|rdbEncLZF)
			b = appendRDBLen(b, uint64(len(c)))
			b = appendRDBLen(b, uint64(len(s)))
			return append(b, c...)
		}
	}
	b = appendRDBLen(b, uint64(len(s)))
	return append(b, s...)
}

// parseFunctionPayload reads FUNCTION RESTORE's payload: the libraries'
// code, or Redis's error text.
func parseFunctionPayload(p []byte) ([]string, string) {
	if len(p) < 10 {
		return nil, "DUMP payload version or checksum are wrong"
	}
	footer := p[len(p)-10:]
	ver := int(footer[0]) | int(footer[1])<<8
	if ver > rdbVersion || binary.LittleEndian.Uint64(footer[2:]) != redisCRC64(0, p[:len(p)-8]) {
		return nil, "DUMP payload version or checksum are wrong"
	}
	data := p[:len(p)-10]
	var codes []string
	for len(data) > 0 {
		t := data[0]
		data = data[1:]
		if t == rdbOpcodeFunctionPreGA {
			return nil, "Pre-GA function format not supported"
		}
		if t != rdbOpcodeFunction2 {
			return nil, "given type is not a function"
		}
		s, rest, ok := readRDBString(data)
		if !ok {
			return nil, "Failed loading library payload"
		}
		codes = append(codes, string(s))
		data = rest
	}
	return codes, ""
}

// readRDBLen is rdbLoadLenByRef: the length, or (encoded) the encoding.
func readRDBLen(b []byte) (n uint64, encoded bool, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, false, nil, false
	}
	switch b[0] >> 6 {
	case 0:
		return uint64(b[0] & 0x3f), false, b[1:], true
	case 1:
		if len(b) < 2 {
			return 0, false, nil, false
		}
		return uint64(b[0]&0x3f)<<8 | uint64(b[1]), false, b[2:], true
	case 2:
		switch b[0] {
		case 0x80:
			if len(b) < 5 {
				return 0, false, nil, false
			}
			return uint64(binary.BigEndian.Uint32(b[1:])), false, b[5:], true
		case 0x81:
			if len(b) < 9 {
				return 0, false, nil, false
			}
			return binary.BigEndian.Uint64(b[1:]), false, b[9:], true
		}
		return 0, false, nil, false
	default:
		return uint64(b[0] & 0x3f), true, b[1:], true
	}
}

// readRDBString is rdbGenericLoadStringObject.
func readRDBString(b []byte) (s, rest []byte, ok bool) {
	n, enc, b, ok := readRDBLen(b)
	if !ok {
		return nil, nil, false
	}
	if !enc {
		if uint64(len(b)) < n {
			return nil, nil, false
		}
		return b[:n], b[n:], true
	}
	switch n {
	case rdbEncInt8, rdbEncInt16, rdbEncInt32:
		size := 1 << n
		if len(b) < size {
			return nil, nil, false
		}
		var v int64
		switch size {
		case 1:
			v = int64(int8(b[0]))
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(b)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(b)))
		}
		var num [20]byte
		return append([]byte(nil), formatInt(num[:], v)...), b[size:], true
	case rdbEncLZF:
		clen, _, b, ok := readRDBLen(b)
		if !ok {
			return nil, nil, false
		}
		ulen, _, b, ok := readRDBLen(b)
		if !ok || uint64(len(b)) < clen || ulen > 1<<32 {
			return nil, nil, false
		}
		out := lzfDecompress(b[:clen], int(ulen))
		if out == nil {
			return nil, nil, false
		}
		return out, b[clen:], true
	}
	return nil, nil, false
}

// ---------------------------------------------------------------------------
// LZF (liblzf 3.6 as Redis builds it: HLOG 16, VERY_FAST), with a zeroed
// hash table so the output is deterministic.
// ---------------------------------------------------------------------------

const (
	lzfHLog   = 16
	lzfHSize  = 1 << lzfHLog
	lzfMaxLit = 1 << 5
	lzfMaxOff = 1 << 13
	lzfMaxRef = (1 << 8) + (1 << 3)
)

func lzfIdx(h uint32) uint32 {
	return ((h >> (3*8 - lzfHLog)) - h*5) & (lzfHSize - 1)
}

// lzfCompress compresses in into at most outLen bytes, or returns nil when
// it does not fit (lzf_compress returning 0).
func lzfCompress(in []byte, outLen int) []byte {
	inLen := len(in)
	if inLen == 0 || outLen <= 0 {
		return nil
	}
	// Positions are stored +1 so that 0 means an empty slot.
	htab := make([]int32, lzfHSize)
	out := make([]byte, outLen+1)
	ip, op := 0, 0
	lit := 0
	op++ // start run
	frst := func(p int) uint32 { return uint32(in[p])<<8 | uint32(in[p+1]) }
	next := func(v uint32, p int) uint32 { return v<<8 | uint32(in[p+2]) }
	hval := frst(ip)
	for ip < inLen-2 {
		hval = next(hval, ip)
		slot := lzfIdx(hval)
		ref := int(htab[slot]) - 1
		htab[slot] = int32(ip + 1)
		var off int
		if ref > 0 && ref < ip {
			off = ip - ref - 1
		}
		if ref > 0 && ref < ip && off < lzfMaxOff && ip+4 < inLen &&
			in[ref] == in[ip] && in[ref+1] == in[ip+1] && in[ref+2] == in[ip+2] {
			length := 2
			maxlen := inLen - ip - length
			if maxlen > lzfMaxRef {
				maxlen = lzfMaxRef
			}
			out[op-lit-1] = byte(lit - 1) // stop run
			if lit == 0 {
				op-- // undo run if length is zero
			}
			if op+3+1 >= outLen {
				return nil
			}
			for {
				length++
				if length >= maxlen || in[ref+length] != in[ip+length] {
					break
				}
			}
			length -= 2 // length is now #octets - 1
			ip++
			if length < 7 {
				out[op] = byte(off>>8) + byte(length<<5)
				op++
			} else {
				out[op] = byte(off>>8) + 7<<5
				out[op+1] = byte(length - 7)
				op += 2
			}
			out[op] = byte(off)
			op++
			lit = 0
			op++ // start run
			ip += length + 1
			if ip >= inLen-2 {
				break
			}
			ip -= 2
			hval = frst(ip)
			hval = next(hval, ip)
			htab[lzfIdx(hval)] = int32(ip + 1)
			ip++
			hval = next(hval, ip)
			htab[lzfIdx(hval)] = int32(ip + 1)
			ip++
			continue
		}
		// one more literal byte we must copy
		if op >= outLen {
			return nil
		}
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	if op+3 > outLen {
		return nil
	}
	for ip < inLen {
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	out[op-lit-1] = byte(lit - 1) // end run
	if lit == 0 {
		op--
	}
	return out[:op]
}

// lzfDecompress expands in to exactly n bytes, or returns nil if it is
// malformed.
func lzfDecompress(in []byte, n int) []byte {
	out := make([]byte, 0, n)
	ip := 0
	for ip < len(in) {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 {
			ctrl++
			if len(out)+ctrl > n || ip+ctrl > len(in) {
				return nil
			}
			out = append(out, in[ip:ip+ctrl]...)
			ip += ctrl
			continue
		}
		length := ctrl >> 5
		ref := len(out) - ((ctrl & 0x1f) << 8) - 1
		if length == 7 {
			if ip >= len(in) {
				return nil
			}
			length += int(in[ip])
			ip++
		}
		if ip >= len(in) {
			return nil
		}
		ref -= int(in[ip])
		ip++
		length += 2
		if len(out)+length > n || ref < 0 {
			return nil
		}
		for k := 0; k < length; k++ {
			out = append(out, out[ref+k])
		}
	}
	if len(out) != n {
		return nil
	}
	return out
}
