package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/analytics/logreduce"
)

func init() { rootCmd.AddCommand(newLogReduceCmd()) }

type logReduceFlags struct {
	perLine      bool
	criteria     string
	limit        int
	samples      bool
	csvField     string
	baseline     string
	maxSkeletons int
}

func newLogReduceCmd() *cobra.Command {
	var f logReduceFlags
	cmd := &cobra.Command{
		Use:   "logreduce [flags] [FILE]",
		Short: "Group log lines into signatures (templates), offline",
		Long: `Mine the lines of FILE (or standard input, also with "-") into signatures:
templates whose variable parts (numbers, ids, addresses, paths, quoted and
key=value values, timestamps, ...) are <*>. Whole raw lines work as well as
bare messages. This is the algorithm of the logreduce operator, run on a file.

By default it prints one signature per line, most interesting first (rare
and error-like templates; see --criteria), as tab-separated columns:
ID, COUNT, SCORE, TEMPLATE. With --per-line it prints, for each input line
in order, "<signature id>\t<signature text>" instead.

With --csv-field NAME, FILE is a CSV file with a header row, and the NAME
column is mined (for example the Content column of a Loghub structured file).

With --baseline BASE, FILE is compared with BASE (logcompare): one line per
signature, the change that matters first, with STATUS (new, gone, more, less,
same), DELTA_PCT (change of the signature's share of lines), ANOMALY
(symmetric KL term), BASE_COUNT, COUNT, ID, TEMPLATE.`,
		Example: `  dohyo logreduce /var/log/syslog
  journalctl -o cat | dohyo logreduce --criteria mostcommon --limit 20
  dohyo logreduce --per-line app.log
  dohyo logreduce --csv-field Content HDFS_2k.log_structured.csv
  dohyo logreduce --baseline yesterday.log today.log`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := "-"
			if len(args) == 1 {
				file = args[0]
			}
			return runLogReduce(cmd, &f, file)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.perLine, "per-line", false, "print the signature of every input line, in order")
	fl.StringVar(&f.criteria, "criteria", "score", "order of signatures: score (most interesting first), mostcommon or leastcommon")
	fl.IntVar(&f.limit, "limit", 0, "print at most this many signatures (0: all)")
	fl.BoolVar(&f.samples, "samples", false, "print sample lines under each signature")
	fl.StringVar(&f.csvField, "csv-field", "", "read FILE as CSV with a header row and mine this column")
	fl.StringVar(&f.baseline, "baseline", "", "compare FILE with this baseline file (logcompare)")
	fl.IntVar(&f.maxSkeletons, "max-skeletons", 0, "cap on distinct skeletons kept in memory (0: default 10,000)")
	cmd.AddCommand(newLogReduceKeysCmd())
	return cmd
}

func runLogReduce(cmd *cobra.Command, f *logReduceFlags, file string) error {
	var order logreduce.Order
	switch strings.ToLower(f.criteria) {
	case "score", "":
		order = logreduce.ByScore
	case "mostcommon":
		order = logreduce.MostCommon
	case "leastcommon":
		order = logreduce.LeastCommon
	default:
		return fmt.Errorf("logreduce: --criteria %q: want score, mostcommon or leastcommon", f.criteria)
	}
	if f.limit < 0 || f.maxSkeletons < 0 {
		return errors.New("logreduce: --limit and --max-skeletons cannot be negative")
	}
	if f.perLine && f.baseline != "" {
		return errors.New("logreduce: --per-line and --baseline cannot be used together")
	}
	cfg := logreduce.Config{MaxSkeletons: f.maxSkeletons}
	out := bufio.NewWriter(cmd.OutOrStdout())
	defer out.Flush()

	// With --per-line, standard input is kept to be assigned after mining;
	// a file is read twice.
	var kept []string
	keep := f.perLine && file == "-"
	m := logreduce.New(cfg)
	err := readLogLines(cmd.InOrStdin(), file, f.csvField, func(line string) {
		m.Add(line)
		if keep {
			kept = append(kept, line)
		}
	})
	if err != nil {
		return err
	}

	if f.baseline != "" {
		base := logreduce.New(cfg)
		if err := readLogLines(nil, f.baseline, f.csvField, base.Add); err != nil {
			return err
		}
		cmp, err := logreduce.Compare(base, m)
		if err != nil {
			return fmt.Errorf("logreduce: %w", err)
		}
		fmt.Fprintln(out, "STATUS\tDELTA_PCT\tANOMALY\tBASE_COUNT\tCOUNT\tID\tTEMPLATE")
		for i, ch := range cmp.Changes {
			if f.limit > 0 && i >= f.limit {
				break
			}
			delta := "inf"
			if !math.IsInf(ch.DeltaPercentage, 0) {
				delta = fmt.Sprintf("%.1f", ch.DeltaPercentage)
			}
			fmt.Fprintf(out, "%s\t%s\t%.6f\t%d\t%d\t%s\t%s\n", ch.Status, delta, ch.AnomalyScore,
				ch.BaselineCount, ch.TargetCount, ch.Cluster.ID, oneLine(ch.Cluster.Template))
			printSamples(out, f.samples, ch.Cluster.Samples)
		}
		return out.Flush()
	}

	res := m.Result()
	if f.perLine {
		emit := func(line string) {
			c := res.Assign(line)
			fmt.Fprintf(out, "%s\t%s\n", c.ID, oneLine(c.Template))
		}
		if keep {
			for _, l := range kept {
				emit(l)
			}
		} else if err := readLogLines(nil, file, f.csvField, emit); err != nil {
			return err
		}
		return out.Flush()
	}
	fmt.Fprintln(out, "ID\tCOUNT\tSCORE\tTEMPLATE")
	for i, c := range res.Sorted(order) {
		if f.limit > 0 && i >= f.limit {
			break
		}
		fmt.Fprintf(out, "%s\t%d\t%.2f\t%s\n", c.ID, c.Count, c.Score, oneLine(c.Template))
		printSamples(out, f.samples, c.Samples)
	}
	return out.Flush()
}

func printSamples(w io.Writer, on bool, samples []string) {
	if !on {
		return
	}
	for _, s := range samples {
		fmt.Fprintf(w, "\t\t\t  %s\n", oneLine(s))
	}
}

// oneLine keeps an output record on one line and valid UTF-8.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(s)
}

// maxLogLine is the longest line read; the miner truncates at 64 KiB anyway.
const maxLogLine = 1 << 20

// readLogLines calls fn for every line of file ("-": stdin), or for the
// csvField column of every record when csvField is set.
func readLogLines(stdin io.Reader, file, csvField string, fn func(string)) error {
	var r io.Reader = stdin
	name := "standard input"
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("logreduce: %w", err)
		}
		defer fh.Close()
		r, name = fh, file
	}
	if r == nil {
		return errors.New("logreduce: no input")
	}
	if csvField != "" {
		return readCSVField(r, name, csvField, fn)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long) < maxLogLine {
				long = append(long, chunk[:min(len(chunk), maxLogLine-len(long))]...)
			}
			continue
		}
		line := chunk
		if long != nil {
			if len(long) < maxLogLine {
				long = append(long, chunk[:min(len(chunk), maxLogLine-len(long))]...)
			}
			line, long = long, nil
		}
		if len(line) > 0 {
			fn(strings.TrimRight(string(line), "\r\n"))
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("logreduce: reading %s: %w", name, err)
		}
	}
}

func readCSVField(r io.Reader, name, field string, fn func(string)) error {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return fmt.Errorf("logreduce: %s: reading the CSV header: %w", name, err)
	}
	col := -1
	for i, h := range head {
		if strings.EqualFold(strings.TrimPrefix(strings.TrimSpace(h), "\ufeff"), field) {
			col = i
			break
		}
	}
	if col < 0 {
		return fmt.Errorf("logreduce: %s: no column %q in the header (%s)", name, field, strings.Join(head, ", "))
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("logreduce: %s: %w", name, err)
		}
		if col < len(rec) {
			fn(rec[col])
		} else {
			fn("")
		}
	}
}

func newLogReduceKeysCmd() *cobra.Command {
	var parser string
	var maxDepth int
	var samples bool
	cmd := &cobra.Command{
		Use:   "keys [flags] [FILE]",
		Short: "Group structured events (JSON or key=value) by their set of keys",
		Long: `Group the events of FILE (or standard input), one per line, by their schema:
the sorted list of their keys, nested JSON keys as dotted paths (logreduce keys).
Prints ID, COUNT, SCHEMA, most common first; events without keys have the id
0000000000000000 and the schema "unknown".`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			file := "-"
			if len(args) == 1 {
				file = args[0]
			}
			km := logreduce.KeyMiner{MaxDepth: maxDepth}
			switch strings.ToLower(parser) {
			case "json":
			case "keyvalue", "kv":
				km.Parser = logreduce.ParseKeyValue
			default:
				return fmt.Errorf("logreduce keys: --parser %q: want json or keyvalue", parser)
			}
			if err := readLogLines(cmd.InOrStdin(), file, "", km.Add); err != nil {
				return err
			}
			out := bufio.NewWriter(cmd.OutOrStdout())
			fmt.Fprintln(out, "ID\tCOUNT\tSCHEMA")
			for _, c := range km.Clusters() {
				fmt.Fprintf(out, "%s\t%d\t%s\n", c.ID, c.Count, oneLine(c.Schema))
				printSamples(out, samples, c.Samples)
			}
			return out.Flush()
		},
	}
	cmd.Flags().StringVar(&parser, "parser", "json", "how to find keys: json or keyvalue")
	cmd.Flags().IntVar(&maxDepth, "maxdepth", 5, "depth of nested JSON keys")
	cmd.Flags().BoolVar(&samples, "samples", false, "print sample events under each schema")
	return cmd
}
