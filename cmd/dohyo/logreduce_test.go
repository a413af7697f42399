package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runLogReduceCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newLogReduceCmd()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

const logReduceInput = `user alice logged in from 10.0.0.1
user bob logged in from 10.0.0.2
ERROR disk /dev/sda1 failed
user carol logged in from 10.0.0.3
user dave logged in from 10.0.0.4
`

func TestLogReduceCmd(t *testing.T) {
	out, err := runLogReduceCmd(t, logReduceInput)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || lines[0] != "ID\tCOUNT\tSCORE\tTEMPLATE" {
		t.Fatalf("output:\n%s", out)
	}
	// the rare error first, then the logins
	if f := strings.Split(lines[1], "\t"); len(f) != 4 || f[1] != "1" || f[3] != "ERROR disk <*> failed" || len(f[0]) != 16 {
		t.Errorf("first signature %q", lines[1])
	}
	if f := strings.Split(lines[2], "\t"); f[1] != "4" || f[3] != "user <*> logged in from <*>" {
		t.Errorf("second signature %q", lines[2])
	}

	out, err = runLogReduceCmd(t, logReduceInput, "--criteria", "mostcommon", "--limit", "1", "--samples")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "\t4\t") || strings.Contains(out, "ERROR disk <*>") || !strings.Contains(out, "logged in from") {
		t.Errorf("mostcommon, limit 1:\n%s", out)
	}

	if _, err := runLogReduceCmd(t, "", "--criteria", "random"); err == nil {
		t.Error("bad criteria accepted")
	}
}

func TestLogReducePerLine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.log")
	if err := os.WriteFile(file, []byte(logReduceInput), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"--per-line", file}, {"--per-line"}} {
		out, err := runLogReduceCmd(t, logReduceInput, args...)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 5 {
			t.Fatalf("%v: %d lines:\n%s", args, len(lines), out)
		}
		login := lines[0]
		for _, i := range []int{1, 3, 4} {
			if lines[i] != login {
				t.Errorf("%v: line %d %q, want %q", args, i+1, lines[i], login)
			}
		}
		if !strings.HasSuffix(login, "\tuser <*> logged in from <*>") || !strings.HasSuffix(lines[2], "\tERROR disk <*> failed") {
			t.Errorf("%v:\n%s", args, out)
		}
	}
}

func TestLogReduceCSVAndCompare(t *testing.T) {
	dir := t.TempDir()
	csvFile := filepath.Join(dir, "s.csv")
	csvData := "LineId,Content,EventId\n1,\"a, b 1\",E1\n2,\"a, b 2\",E1\n3,\"x \"\"y\"\"\",E2\n"
	if err := os.WriteFile(csvFile, []byte(csvData), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runLogReduceCmd(t, "", "--csv-field", "content", "--per-line", csvFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || lines[0] != lines[1] || !strings.HasSuffix(lines[0], "\ta, b <*>") || !strings.HasSuffix(lines[2], "\tx \"y\"") {
		t.Errorf("csv per line:\n%s", out)
	}
	if _, err := runLogReduceCmd(t, "", "--csv-field", "nope", csvFile); err == nil || !strings.Contains(err.Error(), `no column "nope"`) {
		t.Errorf("missing column: %v", err)
	}

	base := filepath.Join(dir, "base.log")
	if err := os.WriteFile(base, []byte("job 1 done\njob 2 done\njob 3 done\ncache warmed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = runLogReduceCmd(t, "job 4 done\nERROR job 5 crashed\n", "--baseline", base)
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "STATUS\t") {
		t.Fatalf("compare:\n%s", out)
	}
	if !strings.HasPrefix(lines[1], "new\tinf\t") || !strings.HasSuffix(lines[1], "\tERROR job <*> crashed") {
		t.Errorf("first change %q", lines[1])
	}
	if !strings.Contains(out, "gone\t-100.0\t") {
		t.Errorf("no gone signature:\n%s", out)
	}
}

func TestLogReduceKeysCmd(t *testing.T) {
	in := `{"a":1,"b":{"c":2}}
{"b":{"c":"x"},"a":"y"}
plain text
`
	out, err := runLogReduceCmd(t, in, "keys")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[1], "\t2\t[\"a\",\"b.c\"]") || lines[2] != "0000000000000000\t1\tunknown" {
		t.Errorf("keys:\n%s", out)
	}
	out, err = runLogReduceCmd(t, "a=1 b=2\nb=3 a=4\n", "keys", "--parser", "keyvalue")
	if err != nil || !strings.Contains(out, "\t2\t[\"a\",\"b\"]") {
		t.Errorf("keyvalue: %v\n%s", err, out)
	}
}

// TestLogReduceLoghub runs the command on a Loghub raw file, as a user
// would: every line gets a signature, and the signatures add up.
func TestLogReduceLoghub(t *testing.T) {
	file := filepath.Join("../../../shared/data", "loghub_2k", "HDFS", "HDFS_2k.log")
	if _, err := os.Stat(file); err != nil {
		t.Skipf("Loghub data not available (%v): ../shared/data next to the checkout", err)
	}
	out, err := runLogReduceCmd(t, "", "--per-line", file)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "\n"); n != 2000 {
		t.Errorf("%d lines of output, want 2000", n)
	}
	out, err = runLogReduceCmd(t, "", file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 10 || len(lines) > 30 {
		t.Errorf("%d signatures for HDFS:\n%s", len(lines)-1, out)
	}
}
