package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStartupErrors: unknown options and bad values stop start-up with a
// message naming the option and a non-zero exit code, as redis-server does.
func TestStartupErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("port = 7000\nmaxmemory = \"lots\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--no-such-option", "1"}, []string{"no-such-option", "Bad directive or wrong number of arguments"}},
		{[]string{"--port", "abc"}, []string{"port", "argument couldn't be parsed into an integer"}},
		{[]string{"--port", "99999"}, []string{"port", "argument must be between 0 and 65535"}},
		{[]string{"--maxmemory-policy", "sometimes"}, []string{"maxmemory-policy", "argument(s) must be one of the following"}},
		{[]string{"--appendfsync", "maybe"}, []string{"appendfsync"}},
		{[]string{bad}, []string{"at line 2", "maxmemory", "argument must be a memory value"}},
		{[]string{filepath.Join(dir, "missing.toml")}, []string{"missing.toml"}},
	}
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		code := run(tc.args, &out, &errOut)
		if code == 0 {
			t.Errorf("%q: exit code 0", tc.args)
		}
		msg := errOut.String()
		if !strings.Contains(msg, "FATAL CONFIG FILE ERROR") {
			t.Errorf("%q: message %q lacks the fatal header", tc.args, msg)
		}
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q: message %q does not contain %q", tc.args, msg, w)
			}
		}
	}
}

func TestVersionFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--version"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "v=7.0.15") {
		t.Fatalf("--version: code %d, out %q, err %q", code, out.String(), errOut.String())
	}
}
