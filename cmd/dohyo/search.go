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

	sp := &cfStreamPrinter{f: f, stdout: stdout, stderr: stderr, loc: loc, tty: cfIsTerminal(stderr)}
	err = c.SearchStream(ctx, client.StreamRequest{
		JobRequest: client.JobRequest{
			Query:    query,
			From:     strconv.FormatInt(from.UnixMilli(), 10),
			To:       strconv.FormatInt(to.UnixMilli(), 10),
			TimeZone: f.tz,
		},
		Limit: f.limit,
	}, sp.event)
	sp.clearProgress()
	if err != nil {
		return err
	}
	done := sp.done
	if done.State == client.StateCancelled {
		return fmt.Errorf("the search was cancelled by the server%s", joinErrs(sp.errs))
	}
	if len(sp.errs) > 0 && done.MessageCount == 0 && done.RecordCount == 0 {
		return fmt.Errorf("the search failed: %s", strings.Join(sp.errs, "; "))
	}
	if err := sp.finish(); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	what, total, shown := "message", max(done.MessageCount, done.HistogramCount), sp.shown
	if sp.aggregate {
		what, total = "record", done.RecordCount
	}
	note := cfPlural(total, what, what+"s")
	if shown < total {
		note += fmt.Sprintf(", showing %s", cfCount(shown))
		if f.limit > 0 && shown >= int64(f.limit) {
			note += " (raise --limit to see more)"
		}
	}
	fmt.Fprintf(stderr, "%s, %s to %s\n", note, from.In(loc).Format("2006-01-02 15:04:05"), to.In(loc).Format("2006-01-02 15:04:05 MST"))
	return nil
}

func joinErrs(msgs []string) string {
	if len(msgs) == 0 {
		return ""
	}
	return ": " + strings.Join(msgs, "; ")
}

// cfStreamPrinter prints the events of a search stream: messages as they
// arrive (table or JSON lines; CSV needs every column first, so it waits
// for the end), records at the end, warnings and errors on stderr, and a
// progress line on stderr when it is a terminal.
type cfStreamPrinter struct {
	f              *cfSearchFlags
	stdout, stderr io.Writer
	loc            *time.Location
	tty            bool

	aggregate    bool
	done         client.StreamEvent
	errs         []string
	shown        int64
	progressLine bool
	// table of messages: the category column only ever widens.
	header   bool
	catWidth int
	// buffered for the end: CSV messages, records.
	rows   []client.Row
	fields []client.ResultField
}

func (p *cfStreamPrinter) clearProgress() {
	if p.progressLine {
		fmt.Fprint(p.stderr, "\r\033[K")
		p.progressLine = false
	}
}

func (p *cfStreamPrinter) event(ev *client.StreamEvent) error {
	switch ev.Type {
	case client.EventMeta:
		p.aggregate = ev.Aggregate
		p.fields = ev.Fields
	case client.EventProgress:
		if p.tty {
			fmt.Fprintf(p.stderr, "\r\033[K%s: %s messages, %s records", strings.ToLower(ev.State), cfCount(ev.MessageCount), cfCount(ev.RecordCount))
			p.progressLine = true
		}
	case client.EventWarning:
		p.clearProgress()
		fmt.Fprintf(p.stderr, "warning: %s\n", ev.Message)
	case client.EventError:
		p.clearProgress()
		fmt.Fprintf(p.stderr, "error: %s\n", ev.Message)
		p.errs = append(p.errs, ev.Message)
	case client.EventMessages:
		p.shown += int64(len(ev.Messages))
		switch p.f.output {
		case "csv":
			p.rows = append(p.rows, ev.Messages...)
			return nil
		case "json":
			p.clearProgress()
			return cfWriteJSONRows(p.stdout, nil, ev.Messages)
		}
		p.clearProgress()
		return p.messagesTable(ev.Messages)
	case client.EventRecords:
		p.shown += int64(len(ev.Records))
		p.fields = ev.Fields
		p.rows = append(p.rows, ev.Records...)
	case client.EventDone:
		p.done = *ev
	}
	return nil
}

// messagesTable prints time, category and message; the lines of a
// multi-line message after the first are indented under the message
// column.
func (p *cfStreamPrinter) messagesTable(rows []client.Row) error {
	w := max(p.catWidth, len("CATEGORY"))
	for _, r := range rows {
		w = max(w, len(cfCell(r["_sourcecategory"])))
	}
	p.catWidth = w
	var b strings.Builder
	if !p.header {
		fmt.Fprintf(&b, "%-23s  %-*s  %s\n", "TIME", w, "CATEGORY", "MESSAGE")
		p.header = true
	}
	indent := strings.Repeat(" ", 23+2+w+2)
	for _, r := range rows {
		ts := r["_messagetime"]
		if ms, err := strconv.ParseInt(ts, 10, 64); err == nil {
			ts = time.UnixMilli(ms).In(p.loc).Format("2006-01-02 15:04:05.000")
		}
		lines := strings.Split(strings.TrimRight(cfCell(r["_raw"]), "\n"), "\n")
		fmt.Fprintf(&b, "%-23s  %-*s  %s\n", ts, w, cfCell(r["_sourcecategory"]), lines[0])
		for _, l := range lines[1:] {
			b.WriteString(indent + l + "\n")
		}
	}
	_, err := io.WriteString(p.stdout, b.String())
	return err
}

// finish prints what waited for the end.
func (p *cfStreamPrinter) finish() error {
	switch {
	case p.f.output == "csv":
		return cfWriteCSV(p.stdout, p.fields, p.rows)
	case p.aggregate && p.f.output == "json":
		return cfWriteJSONRows(p.stdout, p.fields, p.rows)
	case p.aggregate:
		return cfWriteRecordsTable(p.stdout, p.fields, p.rows)
	case !p.header && p.f.output == "table":
		return p.messagesTable(nil)
	}
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
