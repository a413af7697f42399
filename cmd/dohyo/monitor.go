package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/client"
	"github.com/dohyo/dohyo/internal/units"
	"github.com/dohyo/dohyo/sigma"
)

func init() {
	rootCmd.AddCommand(newMonitorCmd())
	rootCmd.AddCommand(newSigmaCmd())
	rootCmd.AddCommand(newThreatCmd())
}

func newMonitorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Manage monitors and detections (scheduled queries that alert)",
		Long: `Manage monitors: queries evaluated over consecutive time windows whose results
trigger alerts (critical, warning, missing data) per group, sent to notification
targets (webhook, Slack, email). Apps ship monitors disabled: enable an app's
detections with 'dohyo monitor enable --app aws-cloudtrail'.

Commands take a monitor's id or its name.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newMonitorListCmd(), newMonitorGetCmd(), newMonitorCreateCmd(), newMonitorUpdateCmd(),
		newMonitorEnableCmd(true), newMonitorEnableCmd(false), newMonitorMuteCmd(true), newMonitorMuteCmd(false),
		newMonitorHistoryCmd(), newMonitorDeleteCmd(), newMonitorTargetCmd())
	return cmd
}

// ---- notification targets ----

func newMonitorTargetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "target",
		Short: "Manage notification targets (webhook, Slack, email)",
		Long: `Manage the notification targets monitors alert. A target is JSON:
  {"name": "secops", "type": "webhook", "webhook": {"url": "https://...", "headers": {...}, "bodyTemplate": "..."}}
  {"name": "slack-sec", "type": "slack", "slack": {"url": "https://hooks.slack.com/services/..."}}
  {"name": "oncall", "type": "email", "email": {"host": "smtp.example.com", "port": 587, "tls": "starttls",
   "username": "...", "password": "...", "from": "dohyo@example.com", "to": ["oncall@example.com"]}}
Commands take a target's id or name.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var apiList, apiCreate, apiTest, apiDelete cfAPIFlags
	var file string
	list := &cobra.Command{
		Use:   "list",
		Short: "List the notification targets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := apiList.client()
			if err != nil {
				return err
			}
			ts, err := c.ListNotificationTargets(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTYPE\tNAME")
			for _, t := range ts {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", t.ID, t.Type, t.Name)
			}
			return tw.Flush()
		},
	}
	apiList.register(list)
	create := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a notification target from a JSON file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return fmt.Errorf("monitor target create: -f FILE is required")
			}
			defs, err := readDefinitions(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			c, err := apiCreate.client()
			if err != nil {
				return err
			}
			for _, d := range defs {
				t, err := c.CreateNotificationTarget(cmd.Context(), d)
				if err != nil {
					return fmt.Errorf("%s: %w", file, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "Created notification target %s (%s, id %s).\n", t.Name, t.Type, t.ID)
			}
			return nil
		},
	}
	create.Flags().StringVarP(&file, "file", "f", "", "JSON file with the target(s)")
	apiCreate.register(create)
	test := &cobra.Command{
		Use:   "test ID|NAME",
		Short: "Send a test notification to a target now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiTest.client()
			if err != nil {
				return err
			}
			res, err := c.TestNotificationTarget(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !res.OK {
				return fmt.Errorf("the test notification to %s failed after %d ms: %s", args[0], res.DurationMs, res.Error)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Delivered a test notification to %s in %d ms.\n", args[0], res.DurationMs)
			return nil
		},
	}
	apiTest.register(test)
	del := &cobra.Command{
		Use:   "delete ID|NAME",
		Short: "Delete a notification target",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := apiDelete.client()
			if err != nil {
				return err
			}
			if err := c.DeleteNotificationTarget(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted notification target %s.\n", args[0])
			return nil
		},
	}
	apiDelete.register(del)
	cmd.AddCommand(list, create, test, del)
	return cmd
}

// findMonitor resolves a monitor's id or name.
func findMonitor(ctx context.Context, c *client.Client, ref string) (*client.Monitor, error) {
	list, err := c.ListMonitors(ctx, "")
	if err != nil {
		return nil, err
	}
	var byName []*client.Monitor
	for i, m := range list {
		if m.ID == ref {
			return &list[i], nil
		}
		if strings.EqualFold(m.Name, ref) {
			byName = append(byName, &list[i])
		}
	}
	switch len(byName) {
	case 1:
		return byName[0], nil
	case 0:
		return nil, fmt.Errorf("no monitor with the id or name %q (list them with 'dohyo monitor list')", ref)
	}
	var ids []string
	for _, m := range byName {
		ids = append(ids, m.ID)
	}
	return nil, fmt.Errorf("%d monitors are named %q (ids %s): give the id", len(byName), ref, strings.Join(ids, ", "))
}

func fmtTime(t *client.Timestamp) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func printMonitors(w io.Writer, list []client.Monitor) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tFIRING\tMUTED\tAPP\tEVERY\tLAST EVALUATED\tNAME")
	for _, m := range list {
		muted := ""
		if m.Muted {
			muted = "muted"
		}
		app := m.App
		if app == "" {
			app = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", m.ID, m.Status.State, m.Status.Firing, muted, app, m.Frequency, fmtTime(m.Status.LastEvaluatedAt), m.Name)
	}
	tw.Flush()
}

func newMonitorListCmd() *cobra.Command {
	var api cfAPIFlags
	var app string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--app NAME]",
		Short: "List monitors with their state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			list, err := c.ListMonitors(cmd.Context(), app)
			if err != nil {
				return err
			}
			if asJSON {
				raws := make([]json.RawMessage, len(list))
				for i, m := range list {
					raws[i] = m.Raw
				}
				return cfPrintJSON(cmd.OutOrStdout(), raws)
			}
			if len(list) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "No monitors. Create one with 'dohyo monitor create -f FILE', or install an app with detections ('dohyo app install aws-cloudtrail').")
				return nil
			}
			printMonitors(cmd.OutOrStdout(), list)
			return nil
		},
	}
	cmd.Flags().StringVar(&app, "app", "", "only the monitors of this app")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the monitors as JSON")
	api.register(cmd)
	return cmd
}

func newMonitorGetCmd() *cobra.Command {
	var api cfAPIFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get ID|NAME",
		Short: "Show a monitor: its definition, state and firing alerts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			ref, err := findMonitor(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			m, err := c.GetMonitor(cmd.Context(), ref.ID)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return cfPrintJSON(out, m.Raw)
			}
			fmt.Fprintf(out, "%s (id %s)\n", m.Name, m.ID)
			if m.Description != "" {
				fmt.Fprintf(out, "  %s\n", m.Description)
			}
			fmt.Fprintf(out, "State:     %s", m.Status.State)
			if m.Muted {
				fmt.Fprintf(out, " (muted until %s)", fmtTime(m.MutedUntil))
			}
			fmt.Fprintln(out)
			fmt.Fprintf(out, "Schedule:  every %s over the last %s, %s after each window\n", m.Frequency, m.Window, m.Delay)
			if m.Status.LastWindow != nil {
				fmt.Fprintf(out, "Last:      window %s to %s, %d results, evaluated %s\n", fmtTime(&m.Status.LastWindow.From), fmtTime(&m.Status.LastWindow.To),
					m.Status.LastResultCount, fmtTime(m.Status.LastEvaluatedAt))
			}
			fmt.Fprintf(out, "Next:      %s\n", fmtTime(m.Status.NextEvaluationAt))
			if e := m.Status.Error; e != nil {
				fmt.Fprintf(out, "Error:     %s (%d failures since %s)\n", e.Message, e.Count, fmtTime(&e.Since))
			}
			if m.App != "" {
				fmt.Fprintf(out, "App:       %s\n", m.App)
			}
			fmt.Fprintf(out, "Query:\n  %s\n", strings.ReplaceAll(m.Query, "\n", "\n  "))
			if len(m.Status.Alerts) > 0 {
				fmt.Fprintln(out, "Firing:")
				for _, a := range m.Status.Alerts {
					fmt.Fprintf(out, "  %-11s %s since %s (value %s)\n", a.State, groupText(a.Group), fmtTime(&a.Since), a.Value)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the monitor as JSON")
	api.register(cmd)
	return cmd
}

func groupText(g map[string]string) string {
	if len(g) == 0 {
		return "(all)"
	}
	var parts []string
	for _, k := range sortedKeys(g) {
		parts = append(parts, k+"="+g[k])
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// readDefinitions reads a file holding one monitor definition (a JSON
// object) or several (an array). "-" is standard input.
func readDefinitions(path string, stdin io.Reader) ([]json.RawMessage, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, err
	}
	t := bytes.TrimSpace(data)
	if len(t) > 0 && t[0] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(t, &list); err != nil {
			return nil, fmt.Errorf("%s: not a JSON array of monitors: %v", path, err)
		}
		return list, nil
	}
	if !json.Valid(t) {
		var v any
		err := json.Unmarshal(t, &v)
		return nil, fmt.Errorf("%s: not a JSON monitor definition: %v", path, err)
	}
	return []json.RawMessage{t}, nil
}

func newMonitorCreateCmd() *cobra.Command {
	var api cfAPIFlags
	var file string
	var dryRun, asJSON bool
	cmd := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create monitors from a JSON file (one definition, or an array)",
		Long: `Create monitors from a JSON file: one definition or an array of them. A
definition is {"name", "query", "window", "frequency", "delay", "groupBy",
"triggers": {"critical": {"field", "op", "threshold"}, "warning", "resolution",
"missingData"}, "message", "notifications": [{"target"}], "labels", "enabled"}.
--dry-run only validates. A file "-" reads standard input.`,
		Example: `  dohyo monitor create -f root-usage.json
  dohyo monitor create -f monitors.json --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return fmt.Errorf("monitor create: -f FILE is required")
			}
			defs, err := readDefinitions(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			var created []json.RawMessage
			for i, d := range defs {
				m, err := c.CreateMonitor(cmd.Context(), d, dryRun)
				if err != nil {
					if len(defs) > 1 {
						return fmt.Errorf("%s: monitor %d: %w", file, i+1, err)
					}
					return fmt.Errorf("%s: %w", file, err)
				}
				created = append(created, m.Raw)
				if asJSON {
					continue
				}
				if dryRun {
					fmt.Fprintf(out, "Valid: %s\n", m.Name)
				} else {
					state := "disabled"
					if m.Enabled {
						state = "enabled"
					}
					fmt.Fprintf(out, "Created monitor %s (id %s, %s).\n", m.Name, m.ID, state)
				}
			}
			if asJSON {
				return cfPrintJSON(out, created)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "JSON file with the definition(s)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "validate only")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the monitors as JSON")
	api.register(cmd)
	return cmd
}

func newMonitorUpdateCmd() *cobra.Command {
	var api cfAPIFlags
	var file string
	cmd := &cobra.Command{
		Use:   "update ID|NAME -f FILE",
		Short: "Replace a monitor's definition with a JSON file",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return fmt.Errorf("monitor update: -f FILE is required")
			}
			defs, err := readDefinitions(file, cmd.InOrStdin())
			if err != nil {
				return err
			}
			if len(defs) != 1 {
				return fmt.Errorf("%s: holds %d definitions; update takes one", file, len(defs))
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			ref, err := findMonitor(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			m, err := c.UpdateMonitor(cmd.Context(), ref.ID, defs[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Updated monitor %s (id %s, version %d).\n", m.Name, m.ID, m.Version)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "JSON file with the definition")
	api.register(cmd)
	return cmd
}

func newMonitorEnableCmd(enable bool) *cobra.Command {
	var api cfAPIFlags
	var app, notify string
	verb, past := "enable", "Enabled"
	if !enable {
		verb, past = "disable", "Disabled"
	}
	cmd := &cobra.Command{
		Use:   verb + " ID|NAME... | --app APP",
		Short: strings.ToUpper(verb[:1]) + verb[1:] + " monitors, or every monitor of an app",
		Example: fmt.Sprintf(`  dohyo monitor %s --app aws-cloudtrail
  dohyo monitor %s "AWS CloudTrail - root account usage"`, verb, verb),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (app == "") == (len(args) == 0) {
				return fmt.Errorf("monitor %s: give monitor ids or names, or --app APP", verb)
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if app != "" {
				n, list, err := c.SetAppMonitorsEnabled(cmd.Context(), app, enable, splitList(notify)...)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "%s %d of the %d monitors of app %s.\n", past, n, len(list), app)
				printMonitors(out, list)
				return nil
			}
			for _, a := range args {
				ref, err := findMonitor(cmd.Context(), c, a)
				if err != nil {
					return err
				}
				m, err := c.SetMonitorEnabled(cmd.Context(), ref.ID, enable)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "%s monitor %s (id %s): %s.\n", past, m.Name, m.ID, m.Status.State)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&app, "app", "", "every monitor of this installed app")
	if enable {
		cmd.Flags().StringVar(&notify, "notify", "", "with --app: notification targets (names or ids, comma-separated) every monitor of the app alerts")
	}
	api.register(cmd)
	return cmd
}

func newMonitorMuteCmd(mute bool) *cobra.Command {
	var api cfAPIFlags
	var dur string
	use, short := "mute ID|NAME [--for 1h]", "Silence a monitor's notifications for a while (evaluation goes on)"
	if !mute {
		use, short = "unmute ID|NAME", "Let a muted monitor notify again"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if mute {
				if d, err := units.ParseDuration(dur); err != nil || d <= 0 {
					return fmt.Errorf("--for %q: want a positive duration such as 30m, 2h or 1d", dur)
				}
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			ref, err := findMonitor(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			d := ""
			if mute {
				d = dur
			}
			m, err := c.MuteMonitor(cmd.Context(), ref.ID, d)
			if err != nil {
				return err
			}
			if m.Muted {
				fmt.Fprintf(cmd.OutOrStdout(), "Muted monitor %s until %s.\n", m.Name, fmtTime(m.MutedUntil))
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "Unmuted monitor %s.\n", m.Name)
			}
			return nil
		},
	}
	if mute {
		cmd.Flags().StringVar(&dur, "for", "1h", "how long (e.g. 30m, 2h, 1d)")
	}
	api.register(cmd)
	return cmd
}

func newMonitorHistoryCmd() *cobra.Command {
	var api cfAPIFlags
	var kinds string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "history [ID|NAME]",
		Short: "Show the alert history of a monitor (or of every monitor), newest first",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			id := ""
			names := map[string]string{}
			if len(args) == 1 {
				ref, err := findMonitor(cmd.Context(), c, args[0])
				if err != nil {
					return err
				}
				id = ref.ID
				names[ref.ID] = ref.Name
			} else if list, err := c.ListMonitors(cmd.Context(), ""); err == nil {
				for _, m := range list {
					names[m.ID] = m.Name
				}
			}
			evs, err := c.MonitorHistory(cmd.Context(), id, splitList(kinds), limit)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return cfPrintJSON(out, evs)
			}
			if len(evs) == 0 {
				fmt.Fprintln(out, "No history yet.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "AT\tKIND\tSEVERITY\tMONITOR\tGROUP\tVALUE\tMESSAGE")
			for _, e := range evs {
				sev := e.Severity
				if sev == "" {
					sev = "-"
				}
				group := "-"
				if len(e.Group) > 0 {
					group = groupText(e.Group)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", fmtTime(&e.At), e.Kind, sev, names[e.MonitorID], group, e.Value, strings.ReplaceAll(e.Message, "\n", " "))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&kinds, "kind", "", "only these kinds, comma-separated (fired, resolved, escalated, error, recovered, skipped, ...)")
	cmd.Flags().IntVar(&limit, "limit", 50, "most events shown (at most 1000)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the events as JSON")
	api.register(cmd)
	return cmd
}

func newMonitorDeleteCmd() *cobra.Command {
	var api cfAPIFlags
	cmd := &cobra.Command{
		Use:   "delete ID|NAME",
		Short: "Delete a monitor with its history",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			ref, err := findMonitor(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if err := c.DeleteMonitor(cmd.Context(), ref.ID); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted monitor %s (id %s).\n", ref.Name, ref.ID)
			return nil
		},
	}
	api.register(cmd)
	return cmd
}

// ---- sigma ----

func newSigmaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sigma",
		Short: "Convert Sigma rules for AWS CloudTrail into monitors",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newSigmaImportCmd())
	return cmd
}

func newSigmaImportCmd() *cobra.Command {
	var api cfAPIFlags
	var category, frequency, window string
	var dryRun, enable, asJSON bool
	cmd := &cobra.Command{
		Use:   "import DIR|FILE...",
		Short: "Convert Sigma rules (log source AWS CloudTrail) into monitors",
		Long: `Convert Sigma rules whose log source is AWS CloudTrail into monitors and create
them (disabled unless --enable). Every .yml/.yaml file under each DIR is read;
each rule is reported as converted, or not with the reason (another log source,
an unsupported modifier or condition...). --dry-run converts and reports
without creating anything (and needs no server); --json prints the report and
the queries as JSON.`,
		Example: `  dohyo sigma import ./sigma/rules/cloud/aws/cloudtrail --dry-run
  dohyo sigma import ./rules --category aws/cloudtrail --enable`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opt := sigma.Options{Category: category, Enabled: enable}
			var err error
			if opt.Frequency, err = units.ParseDuration(frequency); err != nil || opt.Frequency < time.Minute {
				return fmt.Errorf("--frequency %q: want a duration of at least 1m", frequency)
			}
			if opt.Window, err = units.ParseDuration(window); err != nil || opt.Window < opt.Frequency {
				return fmt.Errorf("--window %q: want a duration at least the frequency", window)
			}
			var results []sigma.Result
			for _, a := range args {
				st, err := os.Stat(a)
				if err != nil {
					return err
				}
				if st.IsDir() {
					rs, err := sigma.ConvertDir(a, opt)
					if err != nil {
						return err
					}
					results = append(results, rs...)
				} else {
					results = append(results, sigma.ConvertFile(a, opt))
				}
			}
			if len(results) == 0 {
				return fmt.Errorf("no .yml or .yaml files in %s", strings.Join(args, ", "))
			}
			var c *client.Client
			if !dryRun {
				if c, err = api.client(); err != nil {
					return err
				}
			}
			return sigmaReport(cmd.Context(), cmd.OutOrStdout(), c, results, asJSON)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&category, "category", "aws/cloudtrail", "source category of the CloudTrail events")
	fs.StringVar(&frequency, "frequency", "1m", "how often the monitors run")
	fs.StringVar(&window, "window", "15m", "the window of the monitors (a rule's timeframe sets its own)")
	fs.BoolVar(&dryRun, "dry-run", false, "convert and report, create nothing")
	fs.BoolVar(&enable, "enable", false, "create the monitors enabled")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	api.register(cmd)
	return cmd
}

// sigmaReport prints the conversion of each rule and, with a client,
// creates the converted monitors.
func sigmaReport(ctx context.Context, out io.Writer, c *client.Client, results []sigma.Result, asJSON bool) error {
	type row struct {
		sigma.Result
		Query     string `json:"query,omitempty"`
		MonitorID string `json:"monitorId,omitempty"`
		Error     string `json:"error,omitempty"`
	}
	rows := make([]row, len(results))
	converted, created, failed := 0, 0, 0
	reasons := map[string]int{}
	for i, r := range results {
		rows[i].Result = r
		if !r.Converted {
			reasons[reasonClass(r.Reason)]++
			continue
		}
		converted++
		rows[i].Query = r.Conversion.Spec.Query
		if c == nil {
			continue
		}
		def, err := json.Marshal(r.Conversion.Spec)
		if err != nil {
			return err
		}
		m, err := c.CreateMonitor(ctx, def, false)
		if err != nil {
			rows[i].Error = err.Error()
			failed++
			continue
		}
		rows[i].MonitorID = m.ID
		created++
	}
	if asJSON {
		return cfPrintJSON(out, map[string]any{"rules": rows, "total": len(results), "converted": converted, "created": created, "failed": failed})
	}
	for _, r := range rows {
		name := r.Title
		if name == "" {
			name = r.File
		}
		switch {
		case !r.Converted:
			fmt.Fprintf(out, "not converted  %s (%s): %s\n", name, r.File, r.Reason)
		case r.Error != "":
			fmt.Fprintf(out, "FAILED         %s (%s): converted, but the server refused it: %s\n", name, r.File, r.Error)
		case r.MonitorID != "":
			fmt.Fprintf(out, "created        %s → monitor %s\n", name, r.MonitorID)
		default:
			fmt.Fprintf(out, "converted      %s\n", name)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(out, "               note: %s\n", n)
		}
	}
	fmt.Fprintf(out, "\n%d rules: %d converted, %d not", len(results), converted, len(results)-converted)
	if c != nil {
		fmt.Fprintf(out, "; %d monitors created", created)
		if failed > 0 {
			fmt.Fprintf(out, ", %d refused", failed)
		}
	}
	fmt.Fprintln(out, ".")
	if len(reasons) > 0 {
		fmt.Fprintln(out, "Not converted:")
		for _, k := range sortedCounts(reasons) {
			fmt.Fprintf(out, "  %3d  %s\n", reasons[k], k)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d converted rules could not be created", failed)
	}
	return nil
}

// reasonClass shortens a reason to its kind (quoted parts elided, the
// explanation in parentheses dropped), to count them.
func reasonClass(r string) string {
	r = quotedPart.ReplaceAllString(r, `"…"`)
	if i := strings.Index(r, " ("); i > 0 {
		r = r[:i]
	}
	return strings.TrimSpace(r)
}

var quotedPart = regexp.MustCompile(`"[^"]*"`)

func sortedCounts(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && (m[keys[j]] > m[keys[j-1]] || m[keys[j]] == m[keys[j-1]] && keys[j] < keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// ---- threat intelligence ----

func newThreatCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "threat",
		Short: "Manage threat intelligence lists (for threatip and lookup)",
		Long: `Manage threat intelligence indicator lists: IPv4/IPv6 addresses, networks and
domain names, from CSV files or STIX 2.1 bundles. The threatip operator matches
addresses against every list; each list is also a lookup table,
/threatintel/<name>, with the columns indicator, type, actor,
malicious_confidence and raw_threat.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newThreatImportCmd(), newThreatListCmd(), newThreatDeleteCmd())
	return cmd
}

func newThreatImportCmd() *cobra.Command {
	var api cfAPIFlags
	var name, description string
	cmd := &cobra.Command{
		Use:   "import FILE --name NAME",
		Short: "Upload a CSV file or a STIX 2.1 bundle as a threat list (replacing a list of that name)",
		Long: `Upload indicators as the threat list NAME, replacing its previous content.
A CSV file needs a header with an indicator column (or ip, domain, value) and
may have type, actor, malicious_confidence (or confidence: high, medium, low or
0-100) and raw_threat. A STIX 2.1 bundle (JSON) gives its indicators whose
patterns compare ipv4-addr, ipv6-addr or domain-name values; the actor comes
from "indicates" relationships. FILE "-" reads standard input.`,
		Example: `  dohyo threat import bad-ips.csv --name blocklist
  dohyo threat import feed.json --name vendor-feed`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return fmt.Errorf("threat import: --name is required: the list's name")
			}
			var data []byte
			var err error
			if args[0] == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return err
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			up, err := c.UploadThreatList(cmd.Context(), name, data, description)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Imported %d indicators (%s) into the threat list %s (lookup table %s).\n", up.Indicators, up.Format, up.List.Name, up.List.Table)
			if up.Skipped > 0 {
				fmt.Fprintf(out, "Skipped %d entries that are not address, network or domain indicators:\n", up.Skipped)
				for _, r := range up.SkipReasons {
					fmt.Fprintf(out, "  %s\n", r)
				}
			}
			fmt.Fprintf(out, "Use it: | threatip src_ip | where !isNull(malicious_confidence)\n")
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "the list's name (letters, digits, . _ -)")
	cmd.Flags().StringVar(&description, "description", "", "what the list holds (on its creation)")
	api.register(cmd)
	return cmd
}

func newThreatListCmd() *cobra.Command {
	var api cfAPIFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the threat lists",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			lists, err := c.ListThreatLists(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return cfPrintJSON(out, lists)
			}
			if len(lists) == 0 {
				fmt.Fprintln(out, "No threat lists. Upload one with 'dohyo threat import FILE --name NAME'.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tINDICATORS\tUPDATED\tBY\tTABLE")
			for _, l := range lists {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", l.Name, l.RowCount, fmtTime(&l.UpdatedAt), l.UpdatedBy, l.Table)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the lists as JSON")
	api.register(cmd)
	return cmd
}

func newThreatDeleteCmd() *cobra.Command {
	var api cfAPIFlags
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a threat list",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			if err := c.DeleteThreatList(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted the threat list %s.\n", args[0])
			return nil
		},
	}
	api.register(cmd)
	return cmd
}
