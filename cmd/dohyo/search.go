package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/client"
)

func init() { rootCmd.AddCommand(newSearchCmd()) }

// cfNow is the clock of the search command; tests replace it.
var cfNow = time.Now

type cfSearchFlags struct {
	api      cfAPIFlags
	from, to string
	tz       string
	output   string
	limit    int
	explain  bool
}

func newSearchCmd() *cobra.Command {
	var f cfSearchFlags
	cmd := &cobra.Command{
		Use:   "search [flags] QUERY",
		Short: "Run a search (Sumo Logic query language) and print the results",
		Long: `Run a query as a search job and print the results: the raw messages
(newest first: time, category, message) for a search, or the records as a
table for an aggregate query (count, timeslice, ...).

--from and --to take "now", a relative offset (-15m, -1h, -7d, -2w, -1h30m),
an RFC 3339 time (2025-11-24T10:00:00Z), a date-time in --tz
(2025-11-24 10:00:00) or epoch milliseconds.

--explain prints the server's plan for the query instead of running it.`,
		Example: `  dohyo search '_sourceCategory=demo/web/access " 500 "'
  dohyo search --from -24h '_sourceCategory=aws/cloudtrail | json "eventName" | count by eventName | sort by _count'
  dohyo search --from -1h --output json 'error' | jq .`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return runSearch(ctx, cmd, &f, args[0])
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.from, "from", "-15m", "start of the time range")
	fs.StringVar(&f.to, "to", "now", "end of the time range")
	fs.StringVar(&f.tz, "tz", "UTC", "IANA time zone for printed times and for date-times without a zone")
	fs.StringVarP(&f.output, "output", "o", "table", "output format: table, json (one object per line) or csv")
	fs.IntVar(&f.limit, "limit", client.DefaultSearchLimit, "maximum messages or records to print (0: all)")
	fs.BoolVar(&f.explain, "explain", false, "print the query plan instead of running the query")
	f.api.register(cmd)
	return cmd
}

func runSearch(ctx context.Context, cmd *cobra.Command, f *cfSearchFlags, query string) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	switch f.output {
	case "table", "json", "csv":
	default:
		return fmt.Errorf("--output %q: want table, json or csv", f.output)
	}
	if f.limit < 0 {
		return fmt.Errorf("--limit %d: must be 0 (all) or more", f.limit)
	}
	loc, err := time.LoadLocation(f.tz)
	if err != nil {
		return fmt.Errorf("--tz %q: %w", f.tz, err)
	}
	c, err := f.api.client()
	if err != nil {
		return err
	}
	if f.explain {
		plan, err := c.Explain(ctx, query)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, strings.TrimRight(plan, "\n"))
		return nil
	}
	now := cfNow()
	from, err := client.ParseTime(f.from, now, loc)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	to, err := client.ParseTime(f.to, now, loc)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if !from.Before(to) {
		return fmt.Errorf("--from %s is not before --to %s", from.In(loc).Format(time.RFC3339), to.In(loc).Format(time.RFC3339))
	}

	opts := []client.SearchOption{client.WithLimit(f.limit)}
	tty := cfIsTerminal(stderr)
	if tty {
		opts = append(opts, client.WithProgress(func(st client.JobStatus) {
			fmt.Fprintf(stderr, "\r\033[K%s: %s messages, %s records", strings.ToLower(st.State), cfCount(st.MessageCount), cfCount(st.RecordCount))
		}))
	}
	res, err := c.Search(ctx, query, from, to, f.tz, opts...)
	if tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	for _, e := range res.Errors {
		fmt.Fprintf(stderr, "error: %s\n", e)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if res.State == client.StateForcePaused {
		fmt.Fprintln(stderr, "warning: the search stopped at the server's message cap; narrow the query or the time range")
	}

	rows, fields := res.Messages, res.Fields
	what := "message"
	count := res.MessageCount
	if res.Aggregate {
		rows, what, count = res.Records, "record", res.RecordCount
	}
	switch f.output {
	case "json":
		err = cfWriteJSONRows(stdout, fields, rows)
	case "csv":
		err = cfWriteCSV(stdout, fields, rows)
	default:
		if res.Aggregate {
			err = cfWriteRecordsTable(stdout, fields, rows)
		} else {
			err = cfWriteMessagesTable(stdout, rows, loc)
		}
	}
	if err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	note := cfPlural(count, what, what+"s")
	if res.Truncated {
		note += fmt.Sprintf(", showing %s (raise --limit to see more)", cfCount(int64(len(rows))))
	}
	fmt.Fprintf(stderr, "%s, %s to %s\n", note, from.In(loc).Format("2006-01-02 15:04:05"), to.In(loc).Format("2006-01-02 15:04:05 MST"))
	return nil
}

// cfColumns returns the column order: the fields as the server listed
// them, then any other keys of the rows, sorted.
func cfColumns(fields []client.ResultField, rows []client.Row) []string {
	var cols []string
	seen := map[string]bool{}
	for _, f := range fields {
		if !seen[f.Name] {
			cols = append(cols, f.Name)
			seen[f.Name] = true
		}
	}
	var extra []string
	for _, r := range rows {
		for k := range r {
			if !seen[k] {
				extra = append(extra, k)
				seen[k] = true
			}
		}
	}
	sort.Strings(extra)
	return append(cols, extra...)
}

// cfWriteJSONRows writes one JSON object per row, keys in column order.
func cfWriteJSONRows(w io.Writer, fields []client.ResultField, rows []client.Row) error {
	cols := cfColumns(fields, rows)
	var b strings.Builder
	for _, r := range rows {
		b.Reset()
		b.WriteByte('{')
		first := true
		for _, c := range cols {
			v, ok := r[c]
			if !ok {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			k, _ := json.Marshal(c)
			val, _ := json.Marshal(v)
			b.Write(k)
			b.WriteByte(':')
			b.Write(val)
		}
		b.WriteString("}\n")
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

func cfWriteCSV(w io.Writer, fields []client.ResultField, rows []client.Row) error {
	cols := cfColumns(fields, rows)
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	rec := make([]string, len(cols))
	for _, r := range rows {
		for i, c := range cols {
			rec[i] = r[c]
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cfCell makes a value fit one table cell line.
func cfCell(s string) string {
	return strings.NewReplacer("\t", "    ", "\r", "").Replace(s)
}

func cfWriteRecordsTable(w io.Writer, fields []client.ResultField, rows []client.Row) error {
	cols := cfColumns(fields, rows)
	if len(cols) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	cells := make([]string, len(cols))
	for _, r := range rows {
		for i, c := range cols {
			cells[i] = strings.ReplaceAll(cfCell(r[c]), "\n", " ")
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// cfWriteMessagesTable prints time, category and message; the lines of a
// multi-line message after the first are indented under the message column.
func cfWriteMessagesTable(w io.Writer, rows []client.Row, loc *time.Location) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCATEGORY\tMESSAGE")
	for _, r := range rows {
		ts := r["_messagetime"]
		if ms, err := strconv.ParseInt(ts, 10, 64); err == nil {
			ts = time.UnixMilli(ms).In(loc).Format("2006-01-02 15:04:05.000")
		}
		lines := strings.Split(strings.TrimRight(cfCell(r["_raw"]), "\n"), "\n")
		fmt.Fprintf(tw, "%s\t%s\t%s\n", ts, cfCell(r["_sourcecategory"]), lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(tw, "\t\t%s\n", l)
		}
	}
	return tw.Flush()
}
