package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "kaifang:", err)
		os.Exit(1)
	}
}

// command is one subcommand of kaifang.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// env is what a subcommand runs with: its streams and the environment.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
	// onListen, when set, is told the address the server listens on (tests).
	onListen func(addr string)
}

// commands is filled by init functions (a literal would make an
// initialisation cycle: the commands print their own usage from it).
var commands = map[string]command{}

func init() {
	commands["serve"] = command{"run the portal and the gateway", cmdServe}
	commands["demo"] = command{"load the demo catalogue into the data directory, then serve", cmdDemo}
	commands["migrate"] = command{"apply the database migrations and list them", cmdMigrate}
	commands["reindex"] = command{"rebuild the search index from the catalogue", cmdReindex}
	commands["version"] = command{"print the version", cmdVersion}
}

// Run is the whole program; main only adds the process around it, so that
// end-to-end tests run the real thing in-process.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return run(ctx, &env{getenv: getenv, stdout: stdout, stderr: stderr}, args)
}

func run(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return flag.ErrHelp
	}
	c, ok := commands[args[0]]
	if !ok {
		usage(e.stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return c.run(ctx, e, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Kaifang (開放) — public-data open platform\n\nUsage: kaifang COMMAND [flags]   (kaifang COMMAND --help for its flags)\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
}

// parseConfig parses the flags of a subcommand and resolves the configuration.
func parseConfig(e *env, name string, args []string, extra func(fs *flag.FlagSet)) (*Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("kaifang "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfg := &Config{}
	maxUpload, presign := cfg.bindFlags(fs)
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: kaifang %s [flags]\n\n%s.\n\nFlags (each also read from its environment variable):\n", name, commands[name].summary)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if err := cfg.resolve(e.getenv, *maxUpload, *presign); err != nil {
		return nil, nil, err
	}
	return cfg, fs, nil
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	lvl, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func cmdVersion(_ context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("kaifang version", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += "+" + s.Value[:min(12, len(s.Value))]
			}
		}
		v += " (" + strings.TrimPrefix(bi.GoVersion, "go") + ")"
	}
	fmt.Fprintln(e.stdout, "kaifang", v)
	return nil
}
