// Command dohyo is the one dohyo binary: the server and every client command.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// rootCmd is the top of the command tree. Each command lives in its own file
// and adds itself to rootCmd in an init function.
var rootCmd = &cobra.Command{
	Use:           "dohyo",
	Short:         "Self-hosted log analytics with the Sumo Logic query language",
	SilenceUsage:  true,
	SilenceErrors: true,
}

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "dohyo %s\n", version)
		},
	})
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		// A command may choose its exit status (query check: 1 when a
		// query is invalid, 2 on bad input); its message may be empty.
		code := 1
		var ec interface{ ExitCode() int }
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		if msg := err.Error(); msg != "" {
			fmt.Fprintf(os.Stderr, "dohyo: %s\n", msg)
		}
		os.Exit(code)
	}
}
