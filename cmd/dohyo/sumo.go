package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/client"
)

func init() { rootCmd.AddCommand(newSumoCmd()) }

func newSumoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sumo",
		Short: "Move content from Sumo Logic",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newSumoImportCmd())
	return cmd
}

func newSumoImportCmd() *cobra.Command {
	var api cfAPIFlags
	var dryRun, asJSON bool
	cmd := &cobra.Command{
		Use:   "import FILE [--dry-run]",
		Short: "Import dashboards and saved searches from a Sumo Logic content export",
		Long: `Import a Sumo Logic content export (Library > Export, a JSON file: a folder,
a dashboard, a saved search, or an array of them). Dashboards in both the
classic format ("panels" with "queryString") and the newer one ("panels" +
"queries" + "layout", template "variables") become dohyo dashboards, keeping
their layout and chart types where they map; saved searches become saved
searches. Every item, panel, query or setting that could not be brought over
is reported with the reason (a query the language does not support, with
its line and column).

--dry-run reports what would be imported without creating anything.
FILE "-" reads standard input.`,
		Example: `  dohyo sumo import export.json --dry-run
  dohyo sumo import export.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var data []byte
			var err error
			if args[0] == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return fmt.Errorf("sumo import: %w", err)
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			rep, err := c.SumoImport(cmd.Context(), data, dryRun)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return cfPrintJSON(out, rep)
			}
			printSumoReport(out, rep)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be imported without creating anything")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	api.register(cmd)
	return cmd
}

// sumoItemPath joins a folder path and a name.
func sumoItemPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "/" + name
}

func printSumoReport(w io.Writer, rep *client.SumoImportReport) {
	items := fmt.Sprintf("%d items", len(rep.Imported))
	if len(rep.Imported) == 1 {
		items = "1 item"
	}
	if rep.DryRun {
		fmt.Fprintf(w, "Would create %s (dry run: nothing was created):\n", items)
	} else {
		fmt.Fprintf(w, "Created %s:\n", items)
	}
	for _, it := range rep.Imported {
		kind := it.Kind
		if it.Format != "" {
			kind += " (" + it.Format + ")"
		}
		fmt.Fprintf(w, "  %s %q", kind, sumoItemPath(it.Path, it.Name))
		var details []string
		if it.Kind == "dashboard" {
			details = append(details, fmt.Sprintf("%d panels", it.Panels))
			if it.Variables > 0 {
				details = append(details, fmt.Sprintf("%d variables", it.Variables))
			}
			if it.Dropped > 0 {
				details = append(details, fmt.Sprintf("%d panels left out", it.Dropped))
			}
		}
		if it.ID != "" {
			details = append(details, "id "+it.ID)
		}
		if len(details) > 0 {
			fmt.Fprintf(w, ": %s", strings.Join(details, ", "))
		}
		fmt.Fprintln(w)
		for _, n := range it.Notes {
			fmt.Fprintf(w, "      note: %s\n", n)
		}
	}
	if len(rep.NotImported) == 0 {
		fmt.Fprintln(w, "Everything was brought over.")
		return
	}
	fmt.Fprintf(w, "Not imported (%d):\n", len(rep.NotImported))
	for _, n := range rep.NotImported {
		where := sumoItemPath(n.Path, n.Name)
		if n.Item != "" {
			where = sumoItemPath(n.Path, n.Item)
			if n.Name != "" && n.Name != n.Item {
				where += ": " + n.Name
			}
		}
		loc := ""
		if n.Line > 0 {
			loc = fmt.Sprintf(" (query line %d, column %d)", n.Line, n.Column)
		}
		if where != "" {
			where = " " + strconv.Quote(where)
		}
		fmt.Fprintf(w, "  %s%s%s: %s\n", n.Kind, where, loc, n.Reason)
		if n.Query != "" {
			fmt.Fprintf(w, "      query: %s\n", sumoOneLine(n.Query, 160))
		}
	}
}

// sumoOneLine folds a query onto one line, cut at max runes.
func sumoOneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}
