package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/client"
)

func init() { rootCmd.AddCommand(newAppCmd()) }

func newAppCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "List, install, upgrade and uninstall apps (ready-made dashboards, searches and monitors)",
		Long: `Apps are ready-made content for a kind of log: dashboards, saved searches,
lookup tables and monitors (AWS CloudTrail, VPC Flow Logs, ALB, S3 access logs,
CloudFront). Installing an app binds its queries to your source category:

  dohyo app install aws-cloudtrail --param category=aws/cloudtrail

Uninstall removes exactly what the app created; upgrade replaces it with the
version this server ships (or re-applies it with new parameter values).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newAppListCmd(), newAppShowCmd(), newAppInstallCmd("install"), newAppInstallCmd("upgrade"), newAppUninstallCmd())
	return cmd
}

func newAppListCmd() *cobra.Command {
	var api cfAPIFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the apps of the catalog and which are installed",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			list, err := c.ListApps(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return cfPrintJSON(out, list)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVERSION\tINSTALLED\tDASHBOARDS\tTITLE")
			for _, a := range list {
				inst := "-"
				if a.Installed != nil {
					inst = a.Installed.Version
					if cat := appCategoryParam(a); cat != "" {
						inst += " (" + cat + ")"
					}
					if a.UpgradeAvailable {
						inst += ", upgrade available"
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", a.Manifest.Name, a.Manifest.Version, inst, len(a.Contents.Dashboards), a.Manifest.Title)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the apps as JSON")
	api.register(cmd)
	return cmd
}

// appCategoryParam is the installed value of an app's source category
// parameter ("category"), or "".
func appCategoryParam(a client.App) string {
	if a.Installed == nil {
		return ""
	}
	return a.Installed.Params["category"]
}

func newAppShowCmd() *cobra.Command {
	var api cfAPIFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Describe an app: its parameters, content and installation",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			a, err := c.GetApp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return cfPrintJSON(out, a)
			}
			printApp(out, a)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the app as JSON")
	api.register(cmd)
	return cmd
}

func printApp(w io.Writer, a *client.App) {
	m := a.Manifest
	fmt.Fprintf(w, "%s %s: %s\n", m.Name, m.Version, m.Title)
	if m.Description != "" {
		fmt.Fprintf(w, "%s\n", m.Description)
	}
	if a.Installed == nil {
		fmt.Fprintf(w, "\nNot installed (dohyo app install %s [--param NAME=VALUE]...).\n", m.Name)
	} else {
		fmt.Fprintf(w, "\nInstalled: version %s, %s by %s", a.Installed.Version, a.Installed.InstalledAt.UTC().Format("2006-01-02 15:04 MST"), a.Installed.InstalledBy)
		if a.UpgradeAvailable {
			fmt.Fprintf(w, " (version %s available: dohyo app upgrade %s)", m.Version, m.Name)
		}
		fmt.Fprintln(w)
		keys := make([]string, 0, len(a.Installed.Params))
		for k := range a.Installed.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s = %s\n", k, a.Installed.Params[k])
		}
	}
	if len(m.Params) > 0 {
		fmt.Fprintln(w, "\nParameters:")
		for _, p := range m.Params {
			extra := ""
			if p.Default != "" {
				extra = " (default " + p.Default + ")"
			}
			if p.Required {
				extra += " required"
			}
			fmt.Fprintf(w, "  %s%s: %s\n", p.Name, extra, p.Description)
		}
	}
	section := func(title string, items []client.AppContentItem, panels bool) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, it := range items {
			if panels {
				fmt.Fprintf(w, "  %s (%d panels)\n", it.Title, it.Panels)
			} else {
				fmt.Fprintf(w, "  %s\n", it.Title)
			}
		}
	}
	section("Dashboards", a.Contents.Dashboards, true)
	section("Saved searches", a.Contents.Searches, false)
	section("Lookup tables", a.Contents.Lookups, false)
	section("Monitors (installed disabled)", a.Contents.Monitors, false)
	if m.Setup != "" {
		fmt.Fprintf(w, "\nSetup:\n%s\n", m.Setup)
	}
}

// parseAppParams reads --param NAME=VALUE flags.
func parseAppParams(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	params := map[string]string{}
	for _, p := range list {
		k, v, ok := strings.Cut(p, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return nil, fmt.Errorf("--param %q: want NAME=VALUE, e.g. --param category=aws/cloudtrail", p)
		}
		if _, dup := params[k]; dup {
			return nil, fmt.Errorf("--param %s is given twice", k)
		}
		params[k] = v
	}
	return params, nil
}

func newAppInstallCmd(action string) *cobra.Command {
	var api cfAPIFlags
	var params []string
	var asJSON bool
	short := "Install an app, bound to your source category (--param category=...)"
	long := `Install an app: create its dashboards, saved searches, lookup tables and
monitors (monitors are created disabled), with the parameter values given
(--param NAME=VALUE, repeatable; the others take their defaults; 'dohyo app
show NAME' lists them).`
	if action == "upgrade" {
		short = "Upgrade an installed app to the version the server ships, or re-apply it with new parameters"
		long = `Upgrade an installed app: replace its dashboards and saved searches with the
version the server ships, keeping their ids (links stay valid), create what
is new and remove what the new version dropped. Lookup tables keep their
rows. --param changes parameter values; the others keep their installed
values.`
	}
	cmd := &cobra.Command{
		Use:     action + " NAME [--param NAME=VALUE]...",
		Short:   short,
		Long:    long,
		Example: "  dohyo app " + action + " aws-cloudtrail --param category=aws/cloudtrail",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pv, err := parseAppParams(params)
			if err != nil {
				return err
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			var rep *client.AppReport
			if action == "upgrade" {
				rep, err = c.UpgradeApp(cmd.Context(), args[0], pv)
			} else {
				rep, err = c.InstallApp(cmd.Context(), args[0], pv)
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return cfPrintJSON(out, rep)
			}
			verb := map[string]string{"install": "Installed", "upgrade": "Upgraded"}[action]
			printAppReport(out, verb, rep)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&params, "param", nil, "parameter value NAME=VALUE (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	api.register(cmd)
	return cmd
}

func newAppUninstallCmd() *cobra.Command {
	var api cfAPIFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "uninstall NAME",
		Short: "Remove what an app created (its dashboards, saved searches, lookup tables and monitors)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			rep, err := c.UninstallApp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return cfPrintJSON(out, rep)
			}
			printAppReport(out, "Uninstalled", rep)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	api.register(cmd)
	return cmd
}

func printAppReport(w io.Writer, verb string, rep *client.AppReport) {
	fmt.Fprintf(w, "%s %s %s", verb, rep.App, rep.Version)
	if len(rep.Params) > 0 && verb != "Uninstalled" {
		keys := make([]string, 0, len(rep.Params))
		for k := range rep.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			sep := ", "
			if i == 0 {
				sep = " with "
			}
			fmt.Fprintf(w, "%s%s=%s", sep, k, rep.Params[k])
		}
	}
	fmt.Fprintln(w, ".")
	list := func(title string, items []client.AppItem) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "%s:\n", title)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, it := range items {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", it.Kind, it.Name, it.ID)
		}
		tw.Flush()
	}
	list("Created", rep.Created)
	list("Updated", rep.Updated)
	list("Removed", rep.Removed)
	if len(rep.Skipped) > 0 {
		fmt.Fprintln(w, "Skipped:")
		for _, s := range rep.Skipped {
			name := s.Name
			if name == "" {
				name = s.Key
			}
			fmt.Fprintf(w, "  %s %s: %s\n", s.Kind, name, s.Reason)
		}
	}
}
