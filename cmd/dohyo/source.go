package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dohyo/dohyo/client"
)

func init() { rootCmd.AddCommand(newSourceCmd()) }

func newSourceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "source",
		Short: "Manage HTTP sources (ingest endpoints) and their receiver URLs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newSourceCreateCmd(), newSourceListCmd(), newSourceDeleteCmd(), newSourceTokenCmd())
	return cmd
}

// cfPrintJSON writes v as indented JSON.
func cfPrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// cfPrintReceiverURL prints a receiver URL so that it cannot be missed.
func cfPrintReceiverURL(w io.Writer, s *client.Source) {
	fmt.Fprintf(w, "\nReceiver URL (secret: whoever has it can send data to this source):\n\n    %s\n\n", s.URL)
	fmt.Fprintf(w, "Send data:\n    dohyo ingest --url '%s' FILE...\n    curl -T FILE '%s'\n", s.URL, s.URL)
}

func newSourceCreateCmd() *cobra.Command {
	var api cfAPIFlags
	var spec client.SourceSpec
	var fields string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create --name NAME --category CATEGORY [flags]",
		Short: "Create an HTTP source and print its receiver URL",
		Long: `Create an HTTP source. Events sent to its receiver URL get the source's
name (_source), category (_sourceCategory), host (_sourceHost) and fields
unless a request overrides them with X-Sumo-* headers.

--multiline: auto (a new message starts at a line with a timestamp; the
default), off (one message per line), one-per-request (the whole request is
one message) or regex:<re> (a new message starts at each line matching <re>).`,
		Example: `  dohyo source create --name web --category prod/web/access --fields env=prod
  dohyo source create --name payments --category prod/app/payments --multiline 'regex:^\d{4}-\d{2}-\d{2}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if spec.Name == "" || spec.Category == "" {
				return fmt.Errorf("source create: --name and --category are required")
			}
			if fields != "" {
				f, err := client.ParseFields(fields)
				if err != nil {
					return fmt.Errorf("--fields: %w", err)
				}
				spec.Fields = f
			}
			c, err := api.client()
			if err != nil {
				return err
			}
			s, err := c.CreateSource(cmd.Context(), spec)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return cfPrintJSON(out, s)
			}
			fmt.Fprintf(out, "Created source %q (id %s), category %s", s.Name, s.ID, s.Category)
			if s.Host != "" {
				fmt.Fprintf(out, ", host %s", s.Host)
			}
			if s.Multiline != "" {
				fmt.Fprintf(out, ", multiline %s", s.Multiline)
			}
			fmt.Fprintln(out)
			cfPrintReceiverURL(out, s)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&spec.Name, "name", "", "source name (_source)")
	fs.StringVar(&spec.Category, "category", "", "source category (_sourceCategory), e.g. prod/web/access")
	fs.StringVar(&spec.Host, "host", "", "source host (_sourceHost)")
	fs.StringVar(&fields, "fields", "", "custom fields k=v,k2=v2")
	fs.StringVar(&spec.Multiline, "multiline", "", "auto, off, one-per-request or regex:<re> (server default: auto)")
	fs.StringVar(&spec.Timezone, "timezone", "", "IANA time zone for timestamps without one (server default: UTC)")
	fs.BoolVar(&asJSON, "json", false, "print the created source as JSON (url and token included)")
	api.register(cmd)
	return cmd
}

func newSourceListCmd() *cobra.Command {
	var api cfAPIFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List HTTP sources",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			sources, err := c.ListSources(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return cfPrintJSON(out, sources)
			}
			if len(sources) == 0 {
				fmt.Fprintln(out, "No sources yet; create one with 'dohyo source create --name NAME --category CATEGORY'.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tCATEGORY\tHOST\tFIELDS\tMULTILINE\tCREATED")
			for _, s := range sources {
				created := ""
				if !s.CreatedAt.IsZero() {
					created = s.CreatedAt.UTC().Format("2006-01-02 15:04")
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Name, s.Category, s.Host, client.FormatFields(s.Fields), s.Multiline, created)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	api.register(cmd)
	return cmd
}

func newSourceDeleteCmd() *cobra.Command {
	var api cfAPIFlags
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an HTTP source; its receiver URL stops working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			if err := c.DeleteSource(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted source %s\n", args[0])
			return nil
		},
	}
	api.register(cmd)
	return cmd
}

func newSourceTokenCmd() *cobra.Command {
	var api cfAPIFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "token ID",
		Short: "Regenerate a source's token: print the new receiver URL; the old one stops working",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api.client()
			if err != nil {
				return err
			}
			s, err := c.RegenerateToken(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return cfPrintJSON(out, s)
			}
			fmt.Fprintf(out, "New token for source %q (id %s); the previous receiver URL no longer works.\n", s.Name, s.ID)
			cfPrintReceiverURL(out, s)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the source as JSON (url and token included)")
	api.register(cmd)
	return cmd
}
