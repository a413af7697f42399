package logreduce

import (
	"strings"
	"testing"
)

// skeletonText tokenizes a line and returns its canonical words joined by
// " | ", with "^" in front of a word glued to the previous one.
func skeletonText(line string) string {
	tz := tokenizer{maxTokens: 96}
	var b strings.Builder
	for i, tk := range tz.tokenize(line) {
		if i > 0 {
			b.WriteString(" | ")
		}
		if tk.glued {
			b.WriteByte('^')
		}
		b.WriteString(tk.text(line))
	}
	return b.String()
}

func TestTokenize(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"", ""},
		{"   ", ""},
		{"hello", "hello"},
		{"PacketResponder 1 for block blk_-6952295868487656571 terminating",
			"PacketResponder | <*> | for | block | <*> | terminating"},
		// a key stays in front of its value; a run of values is one value
		{"authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=218.188.2.4  user=root",
			"authentication | failure; | logname= | uid=<*> | euid=<*> | tty=NODEVssh | ruser= | rhost=<*> | user=root"},
		{"session opened for user news by (uid=0)", "session | opened | for | user | news | by | (uid=<*>)"},
		{"session opened for user root by LOGIN(uid=0)", "session | opened | for | user | root | by | LOGIN(uid=<*>)"},
		// dates: month and day names next to numbers
		{"connection from 1.2.3.4 () at Fri Jul  1 07:57:30 2005", "connection | from | <*> | () | at | <*>"},
		{"[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
			"[<*>] | [error] | mod_jk | child | workerEnv | in | error | state | <*>"},
		{"We met in May", "We | met | in | May"},
		// units belong to the number
		{"Block rdd_2_0 stored as bytes in memory (estimated size 384.0 B, free 317.5 KB)",
			"Block | <*> | stored | as | bytes | in | memory | (estimated | size | <*>, | free | <*>)"},
		// paths, URLs, e-mail addresses, class references
		{"workerEnv.init() ok /etc/httpd/conf/workers2.properties", "workerEnv.init() | ok | <*>"},
		{"open /etc/hosts failed", "open | <*> | failed"},
		{"fetch http://example.com/a done", "fetch | <*> | done"},
		{"mail to bob@example.com", "mail | to | <*>"},
		{"Intent { cmp=com.tencent.mm/.plugin.base.stub.WXEntryActivity }", "Intent | { | cmp=<*> | }"},
		{"TCP/IP and I/O ok", "TCP/IP | and | I/O | ok"},
		// key="quoted value", with spaces
		{`acquire lock=1, tag="View Lock", name=android`, `acquire | lock=<*>, | tag="<*>", | name=android`},
		// ',' and '|' split before a key or field
		{"ready=true,policy=3,mode=false", "ready=true, | ^policy=<*>, | ^mode=false"},
		{"20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
			"<*>| | ^Step_LSC| | ^<*>| | ^onStandStepChanged | <*>"},
		{"users yarn,curi", "users | yarn,curi"},
		{"10.11.10.1,10.11.10.2 GET", "<*> | GET"},
		// JSON
		{`{"a":"x","b":12,"c":{"d":"e"}}`, `{ | ^"a":"x", | ^"b":<*>, | ^"c":{ | ^"d":"e"}}`},
		// header fields in brackets are one word
		{"2015-10-18 18:01:47,978 INFO [RMCommunicator Allocator] org.apache.hadoop.ipc.Client: Address change detected.",
			"<*> | INFO | [RMCommunicator Allocator] | org.apache.hadoop.ipc.Client: | Address | change | detected."},
		// long words are blobs
		{"token " + strings.Repeat("abc", 40), "token | <*>"},
	} {
		if got := skeletonText(tc.line); got != tc.want {
			t.Errorf("%q\n got %s\nwant %s", tc.line, got, tc.want)
		}
	}
}

func TestTokenizeBounds(t *testing.T) {
	tz := tokenizer{maxTokens: 8}
	toks := tz.tokenize(strings.Repeat("word ", 100))
	if len(toks) != 8 || !toks[7].isVar {
		t.Fatalf("got %d tokens, want 8 with the rest as one variable", len(toks))
	}
	// invalid UTF-8 and control bytes are just bytes
	for _, l := range []string{"\xff\xfe \x00 \xc3", "a\x00b c", strings.Repeat("\xff", 200), "a1(", "x a1(", "a=", `k="`, "[", "/a=", "ab.c/d="} {
		_ = skeletonText(l)
	}
}

func TestKeyEnd(t *testing.T) {
	for _, tc := range []struct {
		w    string
		want int
	}{
		{"uid=", 4}, {"uid", 0}, {"1uid=", 0}, {"LOGIN(uid=", 10}, {"http://x", 0},
		{"release:lock=", 13}, {`name":`, 6}, {"a b=", 0},
	} {
		if got := keyEnd(tc.w); got != tc.want {
			t.Errorf("keyEnd(%q) = %d, want %d", tc.w, got, tc.want)
		}
	}
}
