package logreduce

import (
	"strings"
	"testing"
)

// FuzzMiner feeds arbitrary text, one line per '\n', to a miner and to two
// miners that share the lines; it checks that nothing panics, that the
// merged state equals the single one, that counts add up and every line has
// a cluster, and that the state survives encoding.
func FuzzMiner(f *testing.F) {
	for _, s := range []string{
		"",
		"a\nb\nc",
		"user alice logged in\nuser bob logged in\nuser carol logged in",
		"081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
		"[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6\n[client 1.2.3.4] Directory index forbidden",
		`{"a":"b","c":[1,2,{"d":"e"}]}` + "\n" + `tag="x y" name=z, ws=null`,
		"\xff\xfe\n\x00\n[[[ \"\"\" ]]]\n" + strings.Repeat("x ", 300),
		"a=1,b=2|c=3;d=\"e f\n[a b c d e f g h i j k l m n o p]",
		"a1(\nx=\"\ny a1(",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		cfg := Config{MaxSkeletons: 64, MaxTokens: 24, MaxLineBytes: 512, MaxSampleBytes: 64}
		lines := strings.Split(data, "\n")
		one, a, b := New(cfg), New(cfg), New(cfg)
		for i, l := range lines {
			one.Add(l)
			if i%2 == 0 {
				a.Add(l)
			} else {
				b.Add(l)
			}
		}
		if err := b.Merge(a); err != nil {
			t.Fatal(err)
		}
		res := one.Result()
		if one.Skeletons() < cfg.MaxSkeletons {
			x, _ := one.MarshalBinary()
			y, _ := b.MarshalBinary()
			if string(x) != string(y) {
				t.Fatal("merged state differs")
			}
			if d := sameResult(res, b.Result()); d != "" {
				t.Fatal(d)
			}
		}
		var total int64
		for _, c := range res.Clusters {
			total += c.Count
		}
		if total != int64(len(lines)) {
			t.Fatalf("counts add up to %d, want %d", total, len(lines))
		}
		for _, l := range lines {
			if res.Assign(l) == nil {
				t.Fatal("no cluster")
			}
		}
		enc, err := one.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var dec Miner
		if err := dec.UnmarshalBinary(enc); err != nil {
			t.Fatal(err)
		}
		if d := sameResult(res, dec.Result()); d != "" {
			t.Fatal(d)
		}
		_ = new(Miner).UnmarshalBinary([]byte(data))
		var km KeyMiner
		for _, l := range lines {
			km.Add(l)
		}
		_ = km.Clusters()
	})
}
