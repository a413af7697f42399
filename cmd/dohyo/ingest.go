package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/client"
)

func init() { rootCmd.AddCommand(newIngestCmd()) }

func newIngestCmd() *cobra.Command {
	var uf cfUploadFlags
	cmd := &cobra.Command{
		Use:   "ingest --url RECEIVER_URL [flags] [FILE... | -]",
		Short: "Send log files to an HTTP source, one event per line",
		Long: `Send log files (or standard input, with no FILE or with "-") to an HTTP
source's receiver URL, one event per line. Lines are batched up to
--batch-bytes per request (never split), gzip-compressed and sent with
--concurrency requests in flight; back-pressure (429), timeouts (408),
server errors (5xx) and connection errors are retried with exponential
back-off. Gzip-compressed input files are read transparently.

A line longer than the batch budget is sent alone; the server may refuse it
(413), which is reported. Progress goes to stderr, the summary to stdout.
The exit status is non-zero when any batch was rejected or could not be
delivered.`,
		Example: `  dohyo ingest --url "$URL" /var/log/nginx/access.log
  journalctl -o cat | dohyo ingest --url "$URL" --category prod/journal --host "$(hostname)" -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return runIngest(ctx, cmd, &uf, args)
		},
	}
	uf.register(cmd)
	return cmd
}

func runIngest(ctx context.Context, cmd *cobra.Command, uf *cfUploadFlags, args []string) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	cfg, err := uf.config()
	if err != nil {
		return err
	}
	if len(args) == 0 {
		args = []string{"-"}
	}
	for _, a := range args {
		if a == "-" && cfIsTerminal(cmd.InOrStdin()) {
			fmt.Fprintln(stderr, "ingest: reading events from standard input, one per line (Ctrl-D to end)")
		}
	}
	// Check every file before sending anything.
	var total int64
	for _, a := range args {
		if a == "-" {
			total = -1
			continue
		}
		info, err := os.Stat(a)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		if info.IsDir() {
			return fmt.Errorf("ingest: %s is a directory (give files; for CloudTrail folders use 'dohyo import cloudtrail')", a)
		}
		if total >= 0 {
			total += info.Size()
		}
	}

	up, err := client.NewUploader(cfg)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	var read atomic.Int64
	start := time.Now()
	prog := cfStartProgress(stderr, "events", total, read.Load, up.Stats)

	files := 0
	var sendErr error
	for _, a := range args {
		name := a
		var r io.Reader
		var closeFn func()
		if a == "-" {
			name = "<stdin>"
			r, closeFn = cmd.InOrStdin(), func() {}
		} else {
			f, err := os.Open(a)
			if err != nil {
				sendErr = fmt.Errorf("ingest: %w", err)
				break
			}
			r, closeFn = f, func() { f.Close() }
		}
		err := cfIngestStream(ctx, stderr, name, r, &read, cfg.BatchBytes, up)
		closeFn()
		files++
		if err != nil {
			sendErr = err
			break
		}
	}
	prog.stop()
	closeErr := cfCloseUploader(ctx, up)
	elapsed := time.Since(start)

	s := up.Stats()
	fmt.Fprintf(stdout, "ingest: %s, %s, %s in %s (%s events/s, %s/s)\n",
		cfPlural(int64(files), "file", "files"), cfPlural(s.Events, "event", "events"), cfBytes(s.Bytes),
		elapsed.Round(time.Millisecond), cfCount(int64(float64(s.Events)/max(elapsed.Seconds(), 1e-9))),
		cfBytes(int64(float64(s.Bytes)/max(elapsed.Seconds(), 1e-9))))
	fmt.Fprintf(stdout, "  requests: %s (%s on the wire), retries: %s, rejected: %s\n",
		cfCount(s.Requests), cfBytes(s.WireBytes), cfCount(s.Retries), cfPlural(s.Rejected, "batch", "batches"))
	rejected := cfReportRejections(stdout, up.Rejections())
	if s.FailedEvents > 0 {
		fmt.Fprintf(stdout, "  not delivered: %s\n", cfPlural(s.FailedEvents, "event", "events"))
	}

	switch {
	case sendErr != nil && !errors.Is(sendErr, context.Canceled):
		return sendErr
	case closeErr != nil:
		return fmt.Errorf("ingest: %w", closeErr)
	case sendErr != nil:
		return fmt.Errorf("ingest: interrupted: %w", sendErr)
	case rejected > 0:
		return fmt.Errorf("ingest: the server rejected %s", cfPlural(rejected, "event", "events"))
	}
	return nil
}

// cfIngestStream sends the lines of r. Gzip-compressed input is
// decompressed. read counts the (compressed) bytes consumed.
func cfIngestStream(ctx context.Context, stderr io.Writer, name string, r io.Reader, read *atomic.Int64, budget int, up *client.Uploader) error {
	br := bufio.NewReaderSize(&cfCountingReader{r: r, n: read}, 256<<10)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("ingest %s: gzip: %w", name, err)
		}
		defer zr.Close()
		in = zr
	}
	lr := bufio.NewReaderSize(in, 256<<10)
	var long []byte
	lineNo := 0
	for {
		chunk, err := lr.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			continue
		}
		line := chunk
		if long != nil {
			long = append(long, chunk...)
			line = long
		}
		if len(line) > 0 {
			lineNo++
			if len(line) > budget {
				fmt.Fprintf(stderr, "warning: %s:%d: line of %s is larger than the batch budget (%s); sending it alone, the server may refuse it\n",
					name, lineNo, cfBytes(int64(len(line))), cfBytes(int64(budget)))
			}
			if aerr := up.Add(ctx, line); aerr != nil {
				return fmt.Errorf("ingest %s:%d: %w", name, lineNo, aerr)
			}
		}
		long = nil
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ingest %s: read after line %d: %w", name, lineNo, err)
		}
	}
}

// cfCountingReader counts the bytes read through it.
type cfCountingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *cfCountingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
