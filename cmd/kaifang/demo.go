package main

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"log/slog"
	"path"

	"kaifang/datasets"
	"kaifang/portal"
)

//go:embed demodata/*.csv demodata/*.json demodata/*.xlsx
var demoFiles embed.FS

func cmdDemo(ctx context.Context, e *env, args []string) error {
	cfg, _, err := parseConfig(e, "demo", args, nil)
	if err != nil {
		return err
	}
	return serve(ctx, e, cfg, func(ctx context.Context, st *stores, log *slog.Logger) error {
		n, err := loadDemo(ctx, st, cfg.Secret, log)
		if err != nil {
			return fmt.Errorf("loading the demo catalogue: %w", err)
		}
		fmt.Fprintf(e.stdout, "Demo catalogue ready: %d public entries.\nDemo accounts (password %s):", n, demoPassword)
		for _, u := range demoUsers {
			fmt.Fprintf(e.stdout, " %s (%s)", u.email, u.role)
		}
		fmt.Fprintln(e.stdout)
		return nil
	})
}

// loadDemo creates what is missing of the demo catalogue and leaves what
// exists alone, so that running it again duplicates nothing. It returns the
// number of public entries.
func loadDemo(ctx context.Context, st *stores, secret string, log *slog.Logger) (int, error) {
	agencies := map[string]*datasets.Agency{}
	for _, da := range demoAgencies {
		a, err := st.db.Agency(ctx, da.slug)
		if datasets.IsCode(err, datasets.ENOTFOUND) {
			a = &datasets.Agency{Slug: da.slug, Name: da.name, Description: da.desc}
			err = st.db.CreateAgency(ctx, a)
		}
		if err != nil {
			return 0, fmt.Errorf("agency %s: %w", da.slug, err)
		}
		agencies[da.slug] = a
	}
	svc := &portal.Service{Catalog: st.db, Rows: st.db, Blobs: st.blobs, Accounts: st.db, Access: st.db, Calendar: portal.DefaultCalendar(), Secret: []byte(secret), Logger: log}
	for _, u := range demoUsers {
		if _, err := svc.UserByEmail(ctx, u.email); err == nil {
			continue
		}
		if _, err := svc.AddUser(ctx, u.role, u.agency, u.email, u.name, demoPassword); err != nil {
			return 0, fmt.Errorf("demo user %s: %w", u.email, err)
		}
	}
	for _, de := range demoEntries {
		if err := loadDemoEntry(ctx, st, svc, agencies[de.agency], de, log); err != nil {
			return 0, fmt.Errorf("entry %s: %w", de.slug, err)
		}
	}
	_, n, err := st.db.PublicDatasets(ctx, datasets.DatasetFilter{PerPage: 1})
	return n, err
}

func loadDemoEntry(ctx context.Context, st *stores, svc *portal.Service, a *datasets.Agency, de demoEntry, log *slog.Logger) error {
	target := de.state
	if target == "" {
		target = datasets.Published
	}
	d, err := st.db.Dataset(ctx, de.slug)
	if datasets.IsCode(err, datasets.ENOTFOUND) {
		d = &datasets.Dataset{
			Slug: de.slug, Title: de.title, Description: de.desc, Agency: a.Ref(),
			Category: de.cat, OpenClass: de.class, Frequency: de.freq,
			Formats: de.formats, Tags: de.tags, AccessModes: de.modes,
			LegalBasis: de.legal, Reason: de.reason, State: datasets.Draft,
			License: "政府數據開放授權條款（示範）",
		}
		if d.Formats == nil {
			d.Formats = []string{}
		}
		if d.Tags == nil {
			d.Tags = []string{}
		}
		if d.AccessModes == nil {
			d.AccessModes = []datasets.AccessMode{}
		}
		d.Fields = []datasets.Field{}
		if err := d.Validate(); err != nil {
			return err
		}
		err = st.db.CreateDataset(ctx, d, datasets.Change{Actor: "system", Action: "create", Summary: "示範目錄載入"})
	}
	if err != nil {
		return err
	}
	if de.file != "" {
		vs, err := st.db.Versions(ctx, d.ID)
		if err != nil {
			return err
		}
		if len(vs) == 0 {
			name, body, err := demoFile(de.file)
			if err != nil {
				return err
			}
			v, err := svc.AddVersion(ctx, d.ID, portal.Upload{Body: bytes.NewReader(body), Filename: name, Size: int64(len(body)), Actor: "system"})
			if err != nil {
				return fmt.Errorf("version from %s: %w", name, err)
			}
			log.Info("demo version", "dataset", d.Slug, "rows", v.Rows, "encoding", v.Encoding, "bytes", v.Size)
			if d, err = st.db.Dataset(ctx, d.ID); err != nil {
				return err
			}
			// The entry's field schema comes from the loaded columns.
			if len(d.Fields) == 0 && len(v.Columns) > 0 {
				d.Fields = v.Columns
				if err := st.db.UpdateDataset(ctx, d, datasets.Change{Actor: "system", Action: "update", Summary: "數據項取自文件"}); err != nil {
					return err
				}
			}
		}
	}
	if d.State != target && target != datasets.Draft {
		if target == datasets.Published {
			// The demo records the data authority's opening review
			// (Zhejiang art. 26) in the entry's history.
			d.State = datasets.InReview
			if err := st.db.UpdateDataset(ctx, d, datasets.Change{Actor: "system", Action: "submit", Summary: "提交開放審查"}); err != nil {
				return err
			}
		}
		d.State = target
		if target == datasets.Published {
			return st.db.UpdateDataset(ctx, d, datasets.Change{Actor: "system", Action: "publish", Summary: "開放審查通過（示範）：合法性、保密審查、個人隱私三項核查已記錄"})
		}
		return st.db.UpdateDataset(ctx, d, datasets.Change{Actor: "system", Action: "submit", Summary: "提交開放審查"})
	}
	return nil
}

// demoPassword is the password of every demo account: the demo is for
// trying the platform on one's own machine, never for production.
const demoPassword = "kaifang-demo-2026"

var demoUsers = []struct {
	role                datasets.Role
	agency, email, name string
}{
	{datasets.RoleAdmin, "", "admin@demo.kaifang.local", "數據主管部門管理員"},
	{datasets.RolePublisher, "xm-hrss", "publisher@demo.kaifang.local", "人社局數據專員"},
	{datasets.RoleReviewer, "xm-hrss", "reviewer@demo.kaifang.local", "人社局審核人"},
	{datasets.RoleDeveloper, "", "developer@demo.kaifang.local", "示範開發者"},
}

// demoFile returns the name and bytes of a real demo file or a generated one.
func demoFile(ref string) (string, []byte, error) {
	if len(ref) > 4 && ref[:4] == "gen:" {
		g, ok := demoGenerators[ref[4:]]
		if !ok {
			return "", nil, fmt.Errorf("no generator %q", ref[4:])
		}
		name, body := g()
		return name, body, nil
	}
	b, err := demoFiles.ReadFile(path.Join("demodata", ref))
	return ref, b, err
}
