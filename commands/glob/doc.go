// Package glob implements Redis's glob-style pattern matching, as used by
// KEYS, SCAN MATCH, PSUBSCRIBE and CONFIG GET.
//
// It is a port of stringmatchlen in Redis's util.c, including its quirks, so
// that every pattern matches exactly the strings it matches in Redis:
//   - '*' matches any run of bytes, '?' exactly one byte;
//   - "[abc]", "[^abc]" and "[a-z]" match one byte against a set; a reversed
//     range such as "[z-a]" is swapped, and an unterminated '[' ends the set
//     at the end of the pattern;
//   - '\' escapes the next byte, inside or outside brackets;
//   - nocase folds ASCII letters only (C locale tolower).
//
// Redis protects itself against abusive patterns in two ways, both kept
// here: once a '*' has failed to match the rest of the pattern at every
// position of the remaining subject, no earlier '*' can succeed either
// (skipLongerMatches), which turns "*a*a*a*...b" from exponential into
// polynomial time; and recursion deeper than 1000 '*' gives "no match"
// rather than exhausting the stack.
package glob
