package sqlstore_test

import (
	"context"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore"
	"kaifang/datasets/sqlstore/sqltest"
)

// A chain written one row per record (migration 0003) survives migration
// 0004 whole: every record reads back as it was, the chain verifies, the
// next append links to its last record, and usage keeps its counts.
func TestAuditPagesMigrationKeepsTheChain(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		st := sqltest.MustOpen(t, url)
		k := MustAuditKey(t, st, "legacy")
		db := st.DB()
		pg := st.Dialect() == "postgres"
		q := func(s string) string {
			if !pg {
				return s
			}
			for i := 1; strings.Contains(s, "?"); i++ {
				s = strings.Replace(s, "?", "$"+strconv.Itoa(i), 1)
			}
			return s
		}
		// Back to the layout of 0003: its own CREATE TABLE, no pages.
		ddl, err := os.ReadFile("migrations/" + st.Dialect() + "/0003_access.sql")
		if err != nil {
			t.Fatal(err)
		}
		create := string(ddl)[strings.Index(string(ddl), "CREATE TABLE access_audit ("):]
		create = create[:strings.Index(create, ";")]
		for _, s := range []string{`DROP TABLE access_audit_pages`, `DROP TABLE access_usage`, create,
			`DELETE FROM schema_migrations WHERE version = 4`} {
			if _, err := db.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		at := time.Date(2026, 9, 30, 15, 59, 59, 123456000, time.UTC) // 23:59:59 in Shanghai
		var legacy []datasets.AuditRecord
		prev := ""
		for i := range 3 {
			r := *k.use(i)
			r.Seq, r.At, r.PrevHash = int64(i+1), at.Add(time.Duration(i)*time.Second), prev
			if i == 1 {
				r.Status, r.Rows, r.Filter, r.GrantID = 403, 0, "code=C1&name=王", ""
			}
			r.Hash = r.ChainHash()
			prev = r.Hash
			legacy = append(legacy, r)
			var atArg any = r.At
			if !pg {
				atArg = r.At.Format("2006-01-02T15:04:05.000000Z")
			}
			_, err := db.ExecContext(ctx, q(`INSERT INTO access_audit (seq, at, day, key_id, user_id, application_id, grant_id,
				agency_id, dataset_id, mode, fields, filter, rows_returned, status, request_id, prev_hash, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				r.Seq, atArg, r.At.In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly), r.KeyID, r.UserID, r.ApplicationID,
				r.GrantID, r.AgencyID, r.DatasetID, string(r.Mode), `["f"]`, r.Filter, r.Rows, r.Status, r.RequestID, r.PrevHash, r.Hash)
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := st.AuditRecords(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if !got[i].At.Equal(legacy[i].At) {
				t.Errorf("record %d at %v, want %v", i+1, got[i].At, legacy[i].At)
			}
			got[i].At = legacy[i].At
		}
		if !reflect.DeepEqual(got, legacy) {
			t.Fatalf("migrated records\n%+v\nwant\n%+v", got, legacy)
		}
		next := k.use(9)
		if err := st.AppendAudit(ctx, next); err != nil {
			t.Fatal(err)
		}
		if next.Seq != 4 || next.PrevHash != legacy[2].Hash {
			t.Fatalf("first record after the migration: seq %d prev %q, want 4 linked to %q", next.Seq, next.PrevHash, legacy[2].Hash)
		}
		if n := MustVerify(t, st); n != 4 {
			t.Fatalf("chain of %d records verified, want 4", n)
		}
		// Days are Shanghai's: the first record was made before its
		// midnight, the next two after.
		u, err := st.Usage(ctx, datasets.UsageFilter{UserID: "dev", To: "2026-10-01"})
		if err != nil {
			t.Fatal(err)
		}
		want := []datasets.Usage{
			{Day: "2026-09-30", KeyID: k.key.ID, GrantID: k.grant.ID, DatasetID: "ds", Requests: 1, Allowed: 1, Rows: 3},
			{Day: "2026-10-01", KeyID: k.key.ID, GrantID: "", DatasetID: "ds", Requests: 1, Allowed: 0, Rows: 0},
			{Day: "2026-10-01", KeyID: k.key.ID, GrantID: k.grant.ID, DatasetID: "ds", Requests: 1, Allowed: 1, Rows: 3},
		}
		if !reflect.DeepEqual(u, want) {
			t.Fatalf("usage to 2026-10-01 = %+v, want %+v", u, want)
		}
		today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
		u, err = st.Usage(ctx, datasets.UsageFilter{AgencyID: "ag", From: today})
		if err != nil || len(u) != 1 || u[0].Requests != 1 || u[0].Rows != 3 || u[0].Day != today {
			t.Fatalf("usage from %s = %+v, %v; want the record appended after the migration", today, u, err)
		}
	})
}

// A client's raw query string may hold bytes that are not UTF-8. Its
// record is stored with U+FFFD in their place, the records sharing its
// batch are written too, and the chain verifies.
func TestAuditInvalidUTF8(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		st := sqltest.MustOpen(t, url)
		k := MustAuditKey(t, st, "utf8")
		recs := []*datasets.AuditRecord{k.use(1), k.use(2), k.use(3)}
		recs[1].Filter = "name=\xff\xfe王&code=C1"
		grantFields := []string{"f", "bad\xc0"}
		recs[2].Fields = grantFields
		for i, err := range appendAll([]*sqlstore.Store{st}, recs) {
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
		}
		if n := MustVerify(t, st); n != 3 {
			t.Fatalf("verified %d records, want 3", n)
		}
		got, err := st.AuditRecords(context.Background(), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		filters, fields := map[string]bool{}, map[string]bool{}
		for _, r := range got {
			filters[r.Filter] = true
			for _, f := range r.Fields {
				fields[f] = true
			}
		}
		if !filters["name=\uFFFD王&code=C1"] || !fields["bad\uFFFD"] {
			t.Fatalf("stored filters %v, fields %v; want the invalid bytes replaced by U+FFFD", filters, fields)
		}
		if grantFields[1] != "bad\xc0" {
			t.Fatalf("the caller's fields slice was changed to %q", grantFields)
		}
		old := k.use(4)
		old.At = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := st.AppendAudit(context.Background(), old); !datasets.IsCode(err, datasets.EINVALID) {
			t.Fatalf("a record dated year 10000 = %v, want EINVALID", err)
		}
	})
}
