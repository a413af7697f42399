package main

// Flags and helpers shared by the client commands (ingest, import, search,
// source). Top-level names here start with "cf" where they could clash with
// other commands of package main.

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/client"
)

// cfGetenv reads the environment; tests replace it.
var cfGetenv = os.Getenv

// cfEnvReceiverURL may hold the receiver URL for ingest and import.
const cfEnvReceiverURL = "DOHYO_RECEIVER_URL"

// cfAPIFlags are the flags of commands that call the API.
type cfAPIFlags struct {
	api, accessID, accessKey, credentials string
}

func (f *cfAPIFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.api, "api", "", "API base URL (default: $"+client.EnvAPIURL+", the credentials file, or "+client.DefaultAPIURL+")")
	fs.StringVar(&f.accessID, "access-id", "", "access ID (default: $"+client.EnvAccessID+" or the credentials file)")
	fs.StringVar(&f.accessKey, "access-key", "", "access key (default: $"+client.EnvAccessKey+" or the credentials file)")
	fs.StringVar(&f.credentials, "credentials", "", "bootstrap credentials file written by the server (default "+client.DefaultCredentialsFile+" if it exists)")
}

// client resolves the credentials and returns an API client.
func (f *cfAPIFlags) client() (*client.Client, error) {
	creds, err := client.ResolveCredentials(client.CredentialInputs{
		AccessID:  f.accessID,
		AccessKey: f.accessKey,
		APIURL:    f.api,
		File:      f.credentials,
		Getenv:    cfGetenv,
	})
	if err != nil {
		return nil, err
	}
	return client.New(creds.APIURL, creds.AccessID, creds.AccessKey, client.WithUserAgent("dohyo-cli/"+version))
}

// cfUploadFlags are the flags of commands that send to a receiver.
type cfUploadFlags struct {
	url, category, host, name, fields string
	batchBytes, concurrency           int
	maxAttempts                       int
	noGzip                            bool
}

func (f *cfUploadFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.url, "url", "", "receiver URL of an HTTP source, as printed by 'dohyo source create' (default $"+cfEnvReceiverURL+")")
	fs.StringVar(&f.category, "category", "", "override the source category (X-Sumo-Category)")
	fs.StringVar(&f.host, "host", "", "override the source host (X-Sumo-Host)")
	fs.StringVar(&f.name, "name", "", "override the source name (X-Sumo-Name)")
	fs.StringVar(&f.fields, "fields", "", "custom fields k=v,k2=v2 (X-Sumo-Fields)")
	fs.IntVar(&f.batchBytes, "batch-bytes", client.DefaultBatchBytes, "uncompressed bytes per request; events are never split")
	fs.IntVar(&f.concurrency, "concurrency", client.DefaultConcurrency, "requests in flight")
	fs.IntVar(&f.maxAttempts, "max-attempts", client.DefaultMaxAttempts, "attempts per batch on 429, 408, 5xx and connection errors before giving up")
	fs.BoolVar(&f.noGzip, "no-gzip", false, "send uncompressed")
}

func (f *cfUploadFlags) config() (client.UploaderConfig, error) {
	u := f.url
	if u == "" {
		u = cfGetenv(cfEnvReceiverURL)
	}
	if u == "" {
		return client.UploaderConfig{}, fmt.Errorf("--url is required: the receiver URL of an HTTP source (create one with 'dohyo source create')")
	}
	if f.batchBytes <= 0 {
		return client.UploaderConfig{}, fmt.Errorf("--batch-bytes %d: must be positive", f.batchBytes)
	}
	if f.concurrency <= 0 || f.concurrency > 64 {
		return client.UploaderConfig{}, fmt.Errorf("--concurrency %d: must be between 1 and 64", f.concurrency)
	}
	if f.maxAttempts <= 0 {
		return client.UploaderConfig{}, fmt.Errorf("--max-attempts %d: must be positive", f.maxAttempts)
	}
	var fields map[string]string
	if f.fields != "" {
		var err error
		if fields, err = client.ParseFields(f.fields); err != nil {
			return client.UploaderConfig{}, fmt.Errorf("--fields: %w", err)
		}
	}
	return client.UploaderConfig{
		URL:         u,
		Category:    f.category,
		Host:        f.host,
		Name:        f.name,
		Fields:      fields,
		BatchBytes:  f.batchBytes,
		Concurrency: f.concurrency,
		MaxAttempts: f.maxAttempts,
		NoGzip:      f.noGzip,
		UserAgent:   "dohyo-cli/" + version,
	}, nil
}

// cfIsTerminal reports whether w (a reader or writer) is a terminal (a
// character device).
func cfIsTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// cfProgressEvery is how often progress lines are written when stderr is
// not a terminal.
var cfProgressEvery = 5 * time.Second

// cfProgress reports an upload's progress on stderr: a progress bar on a
// terminal, otherwise a line every few seconds.
type cfProgress struct {
	w      io.Writer
	what   string // "events" or "records"
	total  int64  // input bytes, -1 when unknown
	read   func() int64
	stats  func() client.Stats
	start  time.Time
	bar    *progressbar.ProgressBar
	stopCh chan struct{}
	done   sync.WaitGroup
}

func cfStartProgress(w io.Writer, what string, total int64, read func() int64, stats func() client.Stats) *cfProgress {
	p := &cfProgress{w: w, what: what, total: total, read: read, stats: stats, start: time.Now(), stopCh: make(chan struct{})}
	every := cfProgressEvery
	if cfIsTerminal(w) {
		max := total
		if max <= 0 {
			max = -1
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(24),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetDescription("reading"),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetRenderBlankState(true),
		)
		every = 250 * time.Millisecond
	}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stopCh:
				return
			case <-t.C:
				p.update()
			}
		}
	}()
	return p
}

func (p *cfProgress) rates() string {
	s := p.stats()
	el := time.Since(p.start).Seconds()
	if el <= 0 {
		el = 1e-9
	}
	return fmt.Sprintf("%s %s sent, %s/s, %s/s", cfCount(s.Events), p.what, cfCount(int64(float64(s.Events)/el)), cfBytes(int64(float64(s.Bytes)/el)))
}

func (p *cfProgress) update() {
	if p.bar != nil {
		_ = p.bar.Set64(p.read())
		p.bar.Describe(p.rates())
		return
	}
	read := cfBytes(p.read())
	if p.total > 0 {
		read += " of " + cfBytes(p.total)
	}
	s := p.stats()
	fmt.Fprintf(p.w, "progress: read %s; %s; %d requests, %d retries, %d rejected\n", read, p.rates(), s.Requests, s.Retries, s.Rejected)
}

// stop ends the reporting and clears the bar.
func (p *cfProgress) stop() {
	close(p.stopCh)
	p.done.Wait()
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}

// cfCount formats 1234567 as "1,234,567".
func cfCount(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// cfBytes formats a byte count with a decimal unit (kB, MB, GB).
func cfBytes(n int64) string {
	f := float64(n)
	switch {
	case f >= 1e9:
		return fmt.Sprintf("%.2f GB", f/1e9)
	case f >= 1e6:
		return fmt.Sprintf("%.1f MB", f/1e6)
	case f >= 1e3:
		return fmt.Sprintf("%.1f kB", f/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// cfPlural returns "1 batch" or "3 batches".
func cfPlural(n int64, one, many string) string {
	if n == 1 {
		return cfCount(n) + " " + one
	}
	return cfCount(n) + " " + many
}

// cfReportRejections writes the rejected batches grouped by reason and
// returns how many events they held.
func cfReportRejections(w io.Writer, rejs []client.Rejection) int64 {
	type group struct {
		batches, events int64
		sample          string
	}
	groups := map[string]*group{}
	var order []string
	var events int64
	for _, r := range rejs {
		g := groups[r.Reason()]
		if g == nil {
			g = &group{sample: r.Sample}
			groups[r.Reason()] = g
			order = append(order, r.Reason())
		}
		g.batches++
		g.events += int64(r.Events)
		events += int64(r.Events)
	}
	sort.SliceStable(order, func(i, j int) bool { return groups[order[i]].events > groups[order[j]].events })
	for _, reason := range order {
		g := groups[reason]
		fmt.Fprintf(w, "  rejected: %s (%s) — %s\n", cfPlural(g.batches, "batch", "batches"), cfPlural(g.events, "event", "events"), reason)
		if g.sample != "" {
			fmt.Fprintf(w, "            first event of the first such batch: %q\n", g.sample)
		}
	}
	return events
}

// cfCloseUploader closes an uploader, giving it up to a minute to send
// what is left after ctx is cancelled (Ctrl-C).
func cfCloseUploader(ctx context.Context, up *client.Uploader) error {
	if ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return up.Close(cctx)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
	defer cancel()
	return up.Close(cctx)
}
