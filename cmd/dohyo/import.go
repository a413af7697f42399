package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/client"
	"github.com/dohyo/dohyo/client/cloudtrail"
)

func init() { rootCmd.AddCommand(newImportCmd()) }

func newImportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import files in a known log format (cloudtrail)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newImportCloudTrailCmd())
	return cmd
}

// cfImportBufferBytes is how many bytes of records of one file are kept in
// memory while checking that the file parses; larger files are read twice.
var cfImportBufferBytes = 64 << 20

func newImportCloudTrailCmd() *cobra.Command {
	var uf cfUploadFlags
	cmd := &cobra.Command{
		Use:   "cloudtrail --url RECEIVER_URL [flags] DIR|FILE...",
		Short: "Import CloudTrail log files (S3 delivery layout, .json/.json.gz, or NDJSON)",
		Long: `Import AWS CloudTrail logs into an HTTP source, one record per event.

Directories are searched recursively for *.json and *.json.gz files (the S3
delivery layout AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/...;
digest files are skipped); files named on the command line are read
whatever their name. A file may be a {"Records":[...]} object (streamed
record by record), a JSON array of records, or NDJSON with one record per
line; gzip is detected from the content. Each record is sent as one line:
its original JSON, compacted.

A malformed file is reported with its name and the line and column of the
error, and none of its records are sent (a partly sent file would be hard
to complete later); the import goes on with the other files. The exit
status is non-zero when any file failed or any batch was rejected.`,
		Example: `  dohyo import cloudtrail --url "$URL" ./AWSLogs/
  dohyo import cloudtrail --url "$URL" --category aws/cloudtrail trail-export.ndjson`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return runImportCloudTrail(ctx, cmd, &uf, args)
		},
	}
	uf.register(cmd)
	return cmd
}

func runImportCloudTrail(ctx context.Context, cmd *cobra.Command, uf *cfUploadFlags, args []string) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	cfg, err := uf.config()
	if err != nil {
		return err
	}
	files, err := cloudtrail.FindFiles(args)
	if err != nil {
		return fmt.Errorf("import cloudtrail: %w", err)
	}
	if len(files) == 0 {
		return fmt.Errorf("import cloudtrail: no .json or .json.gz files found in %v", args)
	}
	var total int64
	for _, f := range files {
		if info, err := os.Stat(f); err == nil {
			total += info.Size()
		}
	}
	up, err := client.NewUploader(cfg)
	if err != nil {
		return fmt.Errorf("import cloudtrail: %w", err)
	}
	start := time.Now()
	var doneBytes atomic.Int64 // sizes of the files done, for the progress bar
	prog := cfStartProgress(stderr, "records", total, doneBytes.Load, up.Stats)

	type failure struct {
		file string
		err  error
	}
	var failed []failure
	var ok, records int64
	var sendErr error
	for _, f := range files {
		n, err := cfImportFile(ctx, f, up)
		if info, serr := os.Stat(f); serr == nil {
			doneBytes.Add(info.Size())
		}
		if err != nil {
			var se *cloudtrail.SyntaxError
			if errors.As(err, &se) || errors.Is(err, errNotReadable) {
				failed = append(failed, failure{f, err})
				continue
			}
			sendErr = err
			break
		}
		ok++
		records += int64(n)
	}
	prog.stop()
	closeErr := cfCloseUploader(ctx, up)
	elapsed := time.Since(start)

	s := up.Stats()
	fmt.Fprintf(stdout, "import cloudtrail: %s ok, %s failed; %s read, %s delivered, %s in %s\n",
		cfPlural(ok, "file", "files"), cfCount(int64(len(failed))), cfPlural(records, "record", "records"),
		cfCount(s.Events), cfBytes(s.Bytes), elapsed.Round(time.Millisecond))
	fmt.Fprintf(stdout, "  requests: %s (%s on the wire), retries: %s, rejected: %s\n",
		cfCount(s.Requests), cfBytes(s.WireBytes), cfCount(s.Retries), cfPlural(s.Rejected, "batch", "batches"))
	for _, fl := range failed {
		fmt.Fprintf(stdout, "  failed: %v (no records of this file were sent)\n", fl.err)
	}
	rejected := cfReportRejections(stdout, up.Rejections())
	if s.FailedEvents > 0 {
		fmt.Fprintf(stdout, "  not delivered: %s\n", cfPlural(s.FailedEvents, "record", "records"))
	}
	switch {
	case sendErr != nil && !errors.Is(sendErr, context.Canceled):
		return fmt.Errorf("import cloudtrail: %w", sendErr)
	case closeErr != nil:
		return fmt.Errorf("import cloudtrail: %w", closeErr)
	case sendErr != nil:
		return fmt.Errorf("import cloudtrail: interrupted: %w", sendErr)
	case len(failed) > 0 && rejected > 0:
		return fmt.Errorf("import cloudtrail: %s failed to parse and the server rejected %s", cfPlural(int64(len(failed)), "file", "files"), cfPlural(rejected, "record", "records"))
	case len(failed) > 0:
		return fmt.Errorf("import cloudtrail: %s failed to parse", cfPlural(int64(len(failed)), "file", "files"))
	case rejected > 0:
		return fmt.Errorf("import cloudtrail: the server rejected %s", cfPlural(rejected, "record", "records"))
	}
	return nil
}

var errNotReadable = errors.New("file not readable")

// cfImportFile parses one file completely before sending any of its
// records, so that a malformed file sends nothing. Records are kept in
// memory up to cfImportBufferBytes; a larger file is parsed once to check
// it and a second time to send it.
func cfImportFile(ctx context.Context, path string, up *client.Uploader) (int, error) {
	var arena []byte
	var ends []int
	fits := true
	n, err := cloudtrail.ReadFile(path, func(rec []byte) error {
		if !fits {
			return nil
		}
		if len(arena)+len(rec) > cfImportBufferBytes {
			fits, arena, ends = false, nil, nil
			return nil
		}
		arena = append(arena, rec...)
		ends = append(ends, len(arena))
		return nil
	})
	if err != nil {
		var se *cloudtrail.SyntaxError
		if errors.As(err, &se) {
			return 0, err
		}
		return 0, fmt.Errorf("%w: %w", errNotReadable, err)
	}
	if fits {
		prev := 0
		for _, end := range ends {
			if err := up.Add(ctx, arena[prev:end]); err != nil {
				return 0, fmt.Errorf("send records of %s: %w", path, err)
			}
			prev = end
		}
		return n, nil
	}
	sent, err := cloudtrail.ReadFile(path, func(rec []byte) error { return up.Add(ctx, rec) })
	if err != nil {
		return sent, fmt.Errorf("send records of %s (second pass, %d of %d records sent): %w", path, sent, n, err)
	}
	return sent, nil
}
