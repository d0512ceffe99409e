// Command herald is the Herald server (herald serve) and a command-line
// client for publishers and scripts. Load benchmarks and data seeders are
// another command, cmd/herald-bench.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/heraldhq/herald/cmd/internal/options"
)

// command is one `herald NAME`.
type command struct {
	name, help string
	run        func(ctx context.Context, a *app, args []string) error
}

// commands are all of herald's commands, in the order usage lists them.
var commands = []command{
	{"serve", "run the server (herald serve -h lists its options)", serveCommand},
	{"version", "print the version, commit and build date", versionCommand},
	{"account", "account create: sign up and print a token", accountCommand},
	{"login", "sign in and print a token", loginCommand},
	{"logout", "end the session of --token", logoutCommand},
	{"channel", "channel create|show|edit|delete, channel avatar set|remove", channelCommand},
	{"post", "post an update: --channel ID [--poll-question Q --poll-option A ...] [--at TIME] [--image|--video|--audio|--file F --alt A ...] TEXT (- reads stdin)", postCommand},
	{"keys", "channel API keys: keys create|list|revoke --channel ID", keysCommand},
	{"webhooks", "outgoing webhooks: webhooks add|list|delete|log --channel ID", webhooksCommand},
	{"schedule", "scheduled updates: schedule list|edit|cancel|publish --channel ID", scheduleCommand},
	{"updates", "a channel's updates: [list] --channel ID [--limit N --before SEQ] | edit --channel ID UPDATE_ID TEXT | delete --channel ID UPDATE_ID", updatesCommand},
	{"admins", "a channel's admins: admins list|add|remove --channel ID [USERNAME]", adminsCommand},
	{"invite", "a channel's invite link: invite show|rotate --channel ID (rotate revokes the old link)", inviteCommand},
	{"directory", "search the directory: [--category C --country CC --language L --sort S] [TEXT]", directoryCommand},
	{"follow", "follow a channel: herald follow ID", followCommand},
	{"listen", "print live events of followed and managed channels, resuming after a drop: [--since CURSOR]", listenCommand},
	{"unfollow", "unfollow a channel: herald unfollow ID", unfollowCommand},
	{"react", "react to an update: --channel ID --update ID EMOJI (--remove withdraws)", reactCommand},
	{"vote", "vote in an update's poll: --channel ID --update ID INDEX... (--retract withdraws)", voteCommand},
	{"views", "report that updates were read: herald views UPDATE_ID... (each account counts once)", viewsCommand},
	{"insights", "a channel's reach for its admins: --channel ID", insightsCommand},
	{"backup", "copy the embedded database while the server runs: herald backup [--data DIR] FILE", backupCommand},
	{"verify", "check an update's signature: herald verify [--key KEY | --keys FILE] FILE|URL|- (valid, invalid or unknown key)", verifyCommand},
	{"operator", "operator tasks on the server's store: herald operator verify [--off] CHANNEL_ID | grant|revoke USERNAME", operatorCommand},
}

// app is what a command runs with: its environment and standard streams,
// which tests replace.
type app struct {
	env            options.Env
	stdin          io.Reader
	stdout, stderr io.Writer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{env: options.OS(), stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	if err := a.run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(exitUsage)
		}
		fmt.Fprintln(termSafe{os.Stderr}, "herald:", strings.TrimPrefix(err.Error(), "herald: "))
		os.Exit(exitCode(err))
	}
}

// Exit statuses (docs/cli.md): scripts tell a mistake in the command line,
// which retrying won't fix, from a failure.
const (
	exitFailure = 1 // the server refused, could not be reached, a file could not be read...
	exitUsage   = 2 // no command, an unknown command or flag, a missing argument, a bad flag value
)

func exitCode(err error) int {
	var bad *options.Error
	msg := err.Error()
	if errors.As(err, &bad) || strings.HasPrefix(msg, "usage: ") || strings.HasPrefix(msg, "unknown command ") ||
		strings.HasPrefix(msg, "flag provided but not defined") || strings.HasPrefix(msg, "bad flag syntax") {
		return exitUsage
	}
	return exitFailure
}

func (a *app) run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		a.usage(a.stderr)
		return flag.ErrHelp
	}
	if wantsHelp(args[:1]) || args[0] == "help" {
		a.usage(a.stdout)
		return nil
	}
	for _, c := range commands {
		if c.name == args[0] {
			sub := *a
			if c.name != "serve" {
				// Whatever a client command prints may hold server text.
				sub.stdout, sub.stderr = termSafe{a.stdout}, termSafe{a.stderr}
			}
			help := wantsHelp(args[1:])
			if help {
				sub.stderr = sub.stdout // help asked for is output, not an error
			}
			err := c.run(ctx, &sub, args[1:])
			if errors.Is(err, flag.ErrHelp) {
				return nil // -h of a command: its usage was printed
			}
			if help && err != nil && strings.HasPrefix(err.Error(), "usage: ") {
				// A command with subcommands answers its usage.
				fmt.Fprintln(sub.stdout, "U"+err.Error()[1:])
				return nil
			}
			return err
		}
	}
	a.usage(a.stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: herald COMMAND [flags] [args]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.help)
	}
	fmt.Fprintln(w, "\nRun 'herald COMMAND -h' for a command's flags.")
	fmt.Fprintln(w, "Exit status: 0 on success, 1 on a failure (printed on stderr), 2 for a command line that cannot work (docs/cli.md).")
}

// wantsHelp reports whether args ask for help (-h, -help, --help) before
// any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}
