package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/client"
	"github.com/dohyo/dohyo/query"
)

func init() { rootCmd.AddCommand(newLookupCmd()) }

func newLookupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lookup",
		Short: "Manage lookup tables (for the lookup and save operators)",
		Long: `Manage lookup tables: named tables that "| lookup ... from path://\"<name>\" on ..."
joins with log data and "| save <name>" writes. A table has a primary key (one or
more columns); its rows come from CSV files with a header line.

Tables are named like paths: /shared/admins, /Library/Users/me/admins; a
name without a leading / gets one. Commands take a table's name or its id.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newLookupCreateCmd(), newLookupUploadCmd(), newLookupListCmd(), newLookupDeleteCmd())
	return cmd
}

// findLookup resolves a table's name or id.
func findLookup(ctx context.Context, c *client.Client, ref string) (*client.Lookup, error) {
	list, err := c.ListLookups(ctx)
	if err != nil {
		return nil, err
	}
	name, nerr := query.NormalizeLookupName(ref)
	for i, l := range list {
		if l.ID == ref || (nerr == nil && strings.EqualFold(l.Name, name)) {
			return &list[i], nil
		}
	}
	return nil, fmt.Errorf("no lookup table named %q (list them with 'dohyo lookup list')", ref)
}

func newLookupCreateCmd() *cobra.Command {
	var api cfAPIFlags
	var keys, fields, description, file string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create NAME --key COLUMN[,COLUMN] [--fields NAME:TYPE,...] [--file CSV]",
		Short: "Create a lookup table, optionally with its rows from a CSV file",
		Long: `Create a lookup table. --key names the primary key column(s). --fields
declares the columns and their types (string, long, double, boolean), e.g.
--fields user:string,level:long; without it, the header of the first CSV file
defines the columns (typed string). --file uploads the rows at once.`,
		Example: `  dohyo lookup create /shared/admins --key user --file admins.csv
  dohyo lookup create /shared/ports --key port --fields port:long,service:string`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keys == "" {
				return fmt.Errorf("lookup create: --key is required: the primary key column(s)")
			}
			spec := client.LookupSpec{Name: args[0], Description: description, PrimaryKeys: splitList(keys)}
			for _, f := range splitList(fields) {
				name, typ, _ := strings.Cut(f, ":")
				spec.Fields = append(spec.Fields, client.LookupField{Name: name, Type: typ})
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			var csv io.ReadCloser
			if file != "" {
				if csv, err = os.Open(file); err != nil {
					return fmt.Errorf("--file: %w", err)
				}
				defer csv.Close()
			}
			l, err := c.CreateLookup(cmd.Context(), spec)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			var up *client.LookupUpload
			if csv != nil {
				if up, err = c.UploadLookupCSV(cmd.Context(), l.ID, csv, false); err != nil {
					return fmt.Errorf("created lookup table %s (%s), but %w", l.Name, l.ID, err)
				}
			}
			if asJSON {
				return cfPrintJSON(out, map[string]any{"lookup": l, "upload": up})
			}
			fmt.Fprintf(out, "Created lookup table %s (id %s, key %s).\n", l.Name, l.ID, strings.Join(l.PrimaryKeys, ", "))
			if up != nil {
				printUpload(out, up)
			}
			fmt.Fprintf(out, "Use it: | lookup <column> from path://%q on <field>=%s\n", l.Name, l.PrimaryKeys[0])
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&keys, "key", "", "primary key column(s), comma-separated")
	fs.StringVar(&fields, "fields", "", "columns and types, name:type,... (default: the first CSV header, typed string)")
	fs.StringVar(&description, "description", "", "what the table holds")
	fs.StringVar(&file, "file", "", "CSV file (with a header line) to upload into the new table")
	fs.BoolVar(&asJSON, "json", false, "print the table as JSON")
	api.register(cmd)
	return cmd
}

func printUpload(w io.Writer, up *client.LookupUpload) {
	fmt.Fprintf(w, "Read %d rows, wrote %d; the table holds %d rows (%d bytes).\n", up.RowsRead, up.RowsWritten, up.RowCount, up.SizeBytes)
	if up.RowsSkipped > 0 {
		fmt.Fprintf(w, "Skipped %d rows whose values do not suit the column types (lines %s); first: %s\n",
			up.RowsSkipped, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(up.SkippedLines)), ", "), "[]"), up.SkipReason)
	}
}

func newLookupUploadCmd() *cobra.Command {
	var api cfAPIFlags
	var merge, asJSON bool
	cmd := &cobra.Command{
		Use:   "upload NAME|ID FILE",
		Short: "Upload a CSV file into a lookup table (replacing its rows, or merging with --merge)",
		Long: `Upload a CSV file with a header line into a lookup table. Its rows replace
the table's, or with --merge are merged by primary key (a row with the key of
an existing one replaces it). A file with a malformed row is rejected whole,
with the line number; rows whose values do not suit the column types are
skipped and reported. FILE "-" reads standard input.`,
		Example: `  dohyo lookup upload /shared/admins admins.csv
  dohyo lookup upload /shared/admins new-admins.csv --merge`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = cmd.InOrStdin()
			if args[1] != "-" {
				f, err := os.Open(args[1])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			l, err := findLookup(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			up, err := c.UploadLookupCSV(cmd.Context(), l.ID, r, merge)
			if err != nil {
				return err
			}
			if asJSON {
				return cfPrintJSON(cmd.OutOrStdout(), up)
			}
			printUpload(cmd.OutOrStdout(), up)
			return nil
		},
	}
	cmd.Flags().BoolVar(&merge, "merge", false, "merge the rows by primary key instead of replacing the table's rows")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the outcome as JSON")
	api.register(cmd)
	return cmd
}

func newLookupListCmd() *cobra.Command {
	var api cfAPIFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List lookup tables",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			list, err := c.ListLookups(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if list == nil {
					list = []client.Lookup{}
				}
				return cfPrintJSON(cmd.OutOrStdout(), list)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tID\tKEY\tCOLUMNS\tROWS\tSIZE")
			for _, l := range list {
				var cols []string
				for _, f := range l.Fields {
					cols = append(cols, f.Name+":"+f.Type)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", l.Name, l.ID, strings.Join(l.PrimaryKeys, ","), strings.Join(cols, ","), l.RowCount, l.SizeBytes)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the tables as JSON")
	api.register(cmd)
	return cmd
}

func newLookupDeleteCmd() *cobra.Command {
	var api cfAPIFlags
	cmd := &cobra.Command{
		Use:   "delete NAME|ID",
		Short: "Delete a lookup table and its rows",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			l, err := findLookup(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if err := c.DeleteLookup(cmd.Context(), l.ID); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted lookup table %s (%s).\n", l.Name, l.ID)
			return nil
		},
	}
	api.register(cmd)
	return cmd
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
