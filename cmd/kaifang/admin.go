package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/blob"
	"kaifang/datasets/sqlstore"
	"kaifang/portal"
)

func init() {
	commands["import"] = command{"import an open list (CSV, XLSX or JSON) with its files", cmdImport}
	commands["users"] = command{"manage accounts: users add --role ROLE [--agency SLUG] --email E --password P", cmdUsers}
	commands["tokens"] = command{"create a personal access token: tokens create --email E", cmdTokens}
	commands["audit"] = command{"check the audit chain: audit verify", cmdAudit}
}

// cliActor is the data authority acting from the command line, as the
// operator who runs the binary on the server.
var cliActor = &datasets.User{ID: "system", Email: "cli@localhost", Name: "kaifang (command line)", Role: datasets.RoleAdmin}

// openPortal opens the catalogue and blob stores and the portal over them.
func openPortal(ctx context.Context, cfg *Config) (*portal.Service, func(), error) {
	if err := cfg.ensureSecret(); err != nil {
		return nil, nil, err
	}
	db, err := sqlstore.Open(ctx, cfg.DB)
	if err != nil {
		return nil, nil, err
	}
	bs, err := blob.Open(ctx, cfg.Blob)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	svc := newPortal(cfg, db, bs)
	return svc, func() { bs.Close(); db.Close() }, nil
}

func newPortal(cfg *Config, db *sqlstore.Store, bs datasets.Blobs) *portal.Service {
	return &portal.Service{
		Catalog: db, Rows: db, Blobs: bs, Accounts: db, Access: db,
		Calendar: portal.DefaultCalendar(), Secret: []byte(cfg.Secret),
		MaxUpload: cfg.MaxUpload, TempDir: cfg.Data,
	}
}

func cmdImport(ctx context.Context, e *env, args []string) error {
	var agency, note string
	var publish bool
	cfg, fs, err := parseConfig(e, "import", args, func(fs *flag.FlagSet) {
		fs.StringVar(&agency, "agency", "", "slug of the agency whose list this is (rows may name their own in an agency column)")
		fs.BoolVar(&publish, "publish", false, "record the data authority's opening review for every row and publish it")
		fs.StringVar(&note, "review-note", "", "the note of the three opening-review checks (required with --publish)")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("import takes exactly one FILE, got %d", fs.NArg())
	}
	svc, closeFn, err := openPortal(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	last := time.Time{}
	rep, err := svc.ImportList(ctx, cliActor, agency, fs.Arg(0), portal.ImportOptions{
		Publish: publish, ReviewNote: note,
		Progress: func(done, total int) { last = progressBar(e, last, done, total) },
	})
	if err != nil {
		if ps := datasets.ErrorProblems(err); len(ps) > 0 {
			fmt.Fprintf(e.stderr, "\nthe list was not imported; %d problem(s):\n", len(ps))
			for _, p := range ps {
				fmt.Fprintln(e.stderr, "  "+p.String())
			}
		}
		return err
	}
	fmt.Fprintln(e.stderr)
	fmt.Fprintf(e.stdout, "%d rows: %d created, %d updated, %d unchanged, %d published, %d file versions\n",
		rep.Rows, rep.Created, rep.Updated, rep.Unchanged, rep.Published, rep.Versions)
	return nil
}

// progressBar redraws a one-line bar on stderr, at most ten times a second.
func progressBar(e *env, last time.Time, done, total int) time.Time {
	if done < total && time.Since(last) < 100*time.Millisecond {
		return last
	}
	width := 30
	filled := 0
	if total > 0 {
		filled = done * width / total
	}
	fmt.Fprintf(e.stderr, "\r[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total)
	return time.Now()
}

// wantAction checks that a command with one action (users add, tokens
// create, audit verify) was given it, and prints the usage otherwise.
func wantAction(e *env, args []string, cmd, action, flags string) error {
	if len(args) > 0 && args[0] == action {
		return nil
	}
	fmt.Fprintf(e.stderr, "Usage: kaifang %s %s %s\n", cmd, action, flags)
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
		return flag.ErrHelp
	}
	return fmt.Errorf("%s: unknown or missing action (want %q)", cmd, action)
}

func cmdUsers(ctx context.Context, e *env, args []string) error {
	if err := wantAction(e, args, "users", "add", "--role admin|publisher|reviewer|developer [--agency SLUG] --email E --password P [--name N]"); err != nil {
		return err
	}
	var role, agency, email, password, name string
	cfg, _, err := parseConfig(e, "users", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "admin, publisher, reviewer or developer")
		fs.StringVar(&agency, "agency", "", "agency slug (publishers and reviewers)")
		fs.StringVar(&email, "email", "", "e-mail address (the login)")
		fs.StringVar(&password, "password", "", "password (at least 10 characters)")
		fs.StringVar(&name, "name", "", "display name (default: the e-mail address)")
	})
	if err != nil {
		return err
	}
	if name == "" {
		name = email
	}
	svc, closeFn, err := openPortal(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	u, err := svc.AddUser(ctx, datasets.Role(role), agency, email, name, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s (%s) created with id %s\n", u.Email, u.Role, u.ID)
	return nil
}

func cmdTokens(ctx context.Context, e *env, args []string) error {
	if err := wantAction(e, args, "tokens", "create", "--email E [--name N] [--ttl 720h]"); err != nil {
		return err
	}
	var email, name string
	var ttl time.Duration
	cfg, _, err := parseConfig(e, "tokens", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the user's e-mail address")
		fs.StringVar(&name, "name", "cli", "a name for the token")
		fs.DurationVar(&ttl, "ttl", 0, "lifetime, e.g. 720h (0: the default)")
	})
	if err != nil {
		return err
	}
	svc, closeFn, err := openPortal(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	u, err := svc.UserByEmail(ctx, email)
	if err != nil {
		return err
	}
	plain, tok, err := svc.CreateToken(ctx, u.ID, name, ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, plain)
	if tok.ExpiresAt != nil {
		fmt.Fprintf(e.stderr, "token %s for %s expires %s; it is shown only this once\n", tok.Prefix, u.Email, tok.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

func cmdAudit(ctx context.Context, e *env, args []string) error {
	if err := wantAction(e, args, "audit", "verify", ""); err != nil {
		return err
	}
	cfg, _, err := parseConfig(e, "audit", args[1:], nil)
	if err != nil {
		return err
	}
	svc, closeFn, err := openPortal(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeFn()
	n, err := svc.VerifyAudit(ctx)
	if err != nil {
		return fmt.Errorf("audit chain broken after %d good records: %w", n, err)
	}
	out, _ := json.Marshal(map[string]any{"records": n, "status": "intact"})
	fmt.Fprintln(e.stdout, string(out))
	return nil
}
