package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/query"
)

func init() { rootCmd.AddCommand(newQueryCmd()) }

func newQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "query",
		Short: "Work with queries offline: check them without running them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newQueryCheckCmd())
	return cmd
}

// exitError ends the command with an exit status; its message, when not
// empty, is printed as the error.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// ExitCode is the process's exit status.
func (e *exitError) ExitCode() int { return e.code }

// checkInput is one query to check.
type checkInput struct {
	id    json.RawMessage // --jsonl: the input's "id", echoed
	line  int             // where it starts in the input
	query string
}

// checkResult is one line of --jsonl output.
type checkResult struct {
	ID     json.RawMessage `json:"id,omitempty"`
	OK     bool            `json:"ok"`
	Error  string          `json:"error,omitempty"`
	Line   int             `json:"line,omitempty"`
	Column int             `json:"column,omitempty"`
	Hint   string          `json:"hint,omitempty"`
	Kind   string          `json:"kind,omitempty"`
}

func newQueryCheckCmd() *cobra.Command {
	var jsonl bool
	cmd := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Check queries without running them, and sum up what fails and why",
		Long: `Check queries without running them: parse and plan each one, as a search
would, and report whether it is valid or the first problem with its line,
column and a hint. It needs no server: use it on the saved searches and
dashboard panels of a Sumo Logic account before moving them to dohyo.

Input (FILE, or standard input when FILE is missing or "-"):
  plain text    queries separated by blank lines; a query may span lines.
                Blocks whose every line starts with # are comments.
  --jsonl       one JSON object per line: {"query": "...", "id": ...}; the id
                (any JSON value, optional) is echoed in the output.

Dashboard template parameters ({{name}}) are accepted where a value, a term
or a field name may stand.

Output: plain text gives, per query, a header with its number, the line it
starts on and its first line, then "ok" or the error, the line of the query
it is on with a caret under the column, and the hint; then a summary: the
counts of errors by kind and of unsupported operators. --jsonl prints one
JSON object per input query, in order — {"id":…,"ok":true} or
{"id":…,"ok":false,"error":"…","line":L,"column":C,"hint":"…","kind":"…"} —
and nothing else on standard output; the summary goes to standard error.

Exit status: 0 when every query is valid, 1 when some are not, 2 when the
input cannot be read (or a --jsonl line is not a JSON object with a string
"query").`,
		Example: `  dohyo query check saved-searches.txt
  dohyo query check --jsonl panels.jsonl > results.jsonl
  echo '_sourceCategory=prod | count by _sourceHost' | dohyo query check`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = cmd.InOrStdin()
			name := "standard input"
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("query check: %v", err)}
				}
				defer f.Close()
				r, name = f, args[0]
			}
			data, err := io.ReadAll(r)
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("query check: reading %s: %v", name, err)}
			}
			var inputs []checkInput
			if jsonl {
				if inputs, err = readCheckJSONL(data); err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("query check: %s: %v", name, err)}
				}
			} else {
				if !utf8.Valid(data) {
					return &exitError{code: 2, msg: fmt.Sprintf("query check: %s is not UTF-8 text", name)}
				}
				for _, q := range query.SplitQueries(string(data)) {
					inputs = append(inputs, checkInput{line: q.Line, query: q.Text})
				}
			}
			return runQueryCheck(cmd.OutOrStdout(), cmd.ErrOrStderr(), inputs, jsonl)
		},
	}
	cmd.Flags().BoolVar(&jsonl, "jsonl", false, `read JSON lines ({"query": "...", "id": ...}) and write one JSON result per line`)
	return cmd
}

// readCheckJSONL reads the --jsonl input; empty lines are skipped.
func readCheckJSONL(data []byte) ([]checkInput, error) {
	var out []checkInput
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var in struct {
			Query *string         `json:"query"`
			ID    json.RawMessage `json:"id"`
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		if err := dec.Decode(&in); err != nil {
			return nil, fmt.Errorf("line %d: not a JSON object: %v", n, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("line %d: more than one JSON value on the line", n)
		}
		if in.Query == nil {
			return nil, fmt.Errorf(`line %d: no "query" string`, n)
		}
		out = append(out, checkInput{id: in.ID, line: n, query: *in.Query})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// runQueryCheck checks every input and writes the report.
func runQueryCheck(stdout, stderr io.Writer, inputs []checkInput, jsonl bool) error {
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	kinds := map[string]int{}
	unsupported := map[string]int{}
	failed := 0
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i, in := range inputs {
		res := query.Check(in.query)
		if res.Err != nil {
			failed++
			kind, op := query.ErrorKind(res.Err)
			kinds[kind]++
			if op != "" {
				unsupported[op]++
			}
		}
		if jsonl {
			out := checkResult{ID: in.id, OK: res.Err == nil}
			if e := res.Err; e != nil {
				out.Error, out.Line, out.Column, out.Hint = e.Msg, e.Pos.Line, e.Pos.Column, e.Hint
				out.Kind, _ = query.ErrorKind(e)
			}
			if err := enc.Encode(out); err != nil {
				return err
			}
			continue
		}
		writePlainCheck(w, i+1, in, res)
	}
	summary := stdout
	if jsonl {
		summary = stderr
	} else {
		fmt.Fprintln(w)
	}
	w.Flush()
	sw := bufio.NewWriter(summary)
	writeCheckSummary(sw, len(inputs), failed, kinds, unsupported)
	sw.Flush()
	if failed > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// writePlainCheck writes one query's result in plain text.
func writePlainCheck(w io.Writer, n int, in checkInput, res query.CheckResult) {
	first, _, _ := strings.Cut(in.query, "\n")
	first = strings.TrimSpace(first)
	if utf8.RuneCountInString(first) > 100 {
		first = string([]rune(first)[:97]) + "..."
	}
	fmt.Fprintf(w, "query %d (line %d): %s\n", n, in.line, first)
	e := res.Err
	if e == nil {
		fmt.Fprintln(w, "  ok")
		return
	}
	where := ""
	if e.Pos.IsValid() {
		where = fmt.Sprintf(" at line %d, column %d", e.Pos.Line, e.Pos.Column)
		if in.line > 0 {
			where += fmt.Sprintf(" (input line %d)", in.line+e.Pos.Line-1)
		}
	}
	fmt.Fprintf(w, "  error%s: %s\n", where, e.Msg)
	if e.Pos.IsValid() {
		lines := strings.Split(in.query, "\n")
		if e.Pos.Line <= len(lines) {
			text := strings.TrimRight(lines[e.Pos.Line-1], "\r")
			col, k := e.Pos.Column-1, 0
			var pad strings.Builder
			for _, r := range text {
				if k >= col {
					break
				}
				if r == '\t' {
					pad.WriteByte('\t')
				} else {
					pad.WriteByte(' ')
				}
				k++
			}
			for ; k < col; k++ {
				pad.WriteByte(' ')
			}
			fmt.Fprintf(w, "    %s\n    %s^\n", text, pad.String())
		}
	}
	if e.Hint != "" {
		fmt.Fprintf(w, "  hint: %s\n", e.Hint)
	}
}

// writeCheckSummary writes the counts.
func writeCheckSummary(w io.Writer, total, failed int, kinds, unsupported map[string]int) {
	fmt.Fprintf(w, "summary: %d %s, %d ok, %d failed\n", total, plural(total, "query", "queries"), total-failed, failed)
	section := func(title string, m map[string]int) {
		if len(m) == 0 {
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if m[keys[i]] != m[keys[j]] {
				return m[keys[i]] > m[keys[j]]
			}
			return keys[i] < keys[j]
		})
		fmt.Fprintf(w, "%s:\n", title)
		for _, k := range keys {
			fmt.Fprintf(w, "  %5d  %s\n", m[k], k)
		}
	}
	section("errors by kind", kinds)
	section("unsupported operators", unsupported)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
