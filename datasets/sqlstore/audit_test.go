package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"kaifang/datasets"
	"kaifang/datasets/sqlstore"
	"kaifang/datasets/sqlstore/sqltest"
	"kaifang/portal"
)

// auditKey is an approved application with one grant and one key.
type auditKey struct {
	app   *datasets.Application
	grant datasets.Grant
	key   *datasets.APIKey
}

func MustAuditKey(tb testing.TB, st *sqlstore.Store, name string) auditKey {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	a := &datasets.Application{ApplicantID: "dev", AgencyID: "ag", Scenario: "s", From: now.Add(-time.Hour), To: now.Add(time.Hour),
		State: datasets.AppSubmitted, DueAt: now}
	if err := st.CreateApplication(ctx, a, datasets.ApplicationEvent{Actor: "dev", To: datasets.AppSubmitted}); err != nil {
		tb.Fatal(err)
	}
	a.State = datasets.AppApproved
	g := datasets.Grant{ApplicationID: a.ID, HolderID: "dev", AgencyID: "ag", DatasetID: "ds", Fields: []string{"f"},
		Modes: []datasets.AccessMode{datasets.Query}, Rate: 10, RatePeriod: datasets.PerSecond, Quota: 10, QuotaPeriod: datasets.PerDay,
		From: a.From, To: a.To}
	if err := st.DecideApplication(ctx, a, datasets.AppSubmitted, datasets.ApplicationEvent{Actor: "rev"}, []datasets.Grant{g}); err != nil {
		tb.Fatal(err)
	}
	gs, err := st.Grants(ctx, a.ID)
	if err != nil || len(gs) != 1 {
		tb.Fatal(gs, err)
	}
	k := &datasets.APIKey{Prefix: "kf_" + name, Hash: []byte("hash of " + name), UserID: "dev", ApplicationID: a.ID,
		GrantIDs: []string{gs[0].ID}, ExpiresAt: a.To}
	if err := st.CreateKey(ctx, k); err != nil {
		tb.Fatal(err)
	}
	return auditKey{app: a, grant: gs[0], key: k}
}

func (k auditKey) use(i int) *datasets.AuditRecord {
	return &datasets.AuditRecord{KeyID: k.key.ID, UserID: "dev", ApplicationID: k.app.ID, GrantID: k.grant.ID, AgencyID: "ag",
		DatasetID: "ds", Mode: datasets.Query, Fields: []string{"f"}, Rows: 3, Status: 200, RequestID: fmt.Sprint("r", i)}
}

// MustVerify checks the chain with the portal's verifier and returns its length.
func MustVerify(tb testing.TB, st *sqlstore.Store) int {
	tb.Helper()
	n, err := (&portal.Service{Access: st}).VerifyAudit(context.Background())
	if err != nil {
		tb.Fatalf("VerifyAudit after %d records: %v", n, err)
	}
	return n
}

// appendAll appends recs concurrently on the stores in turn and returns each error.
func appendAll(stores []*sqlstore.Store, recs []*datasets.AuditRecord) []error {
	errs := make([]error, len(recs))
	var wg sync.WaitGroup
	for i, r := range recs {
		wg.Go(func() { errs[i] = stores[i%len(stores)].AppendAudit(context.Background(), r) })
	}
	wg.Wait()
	return errs
}

func TestAuditGroupCommit(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		st := sqltest.MustOpen(t, url)
		k := MustAuditKey(t, st, "a")
		const n = 300 // more than one batch
		recs := make([]*datasets.AuditRecord, n)
		for i := range recs {
			recs[i] = k.use(i)
			if i%3 == 0 {
				recs[i].KeyID, recs[i].GrantID = "", "" // records without a key are chained alike
			}
		}
		seqs := map[int64]bool{}
		for i, err := range appendAll([]*sqlstore.Store{st}, recs) {
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
			r := recs[i]
			if r.Seq < 1 || r.Seq > n || seqs[r.Seq] || r.Hash != r.ChainHash() || r.Status != 200 {
				t.Fatalf("record %d came back as %+v", i, r)
			}
			seqs[r.Seq] = true
		}
		if got := MustVerify(t, st); got != n {
			t.Fatalf("chain has %d records, want %d", got, n)
		}
	})
}

// Two Stores on one database stand for two gateway processes: their
// batches interleave on one ordered chain.
func TestAuditTwoStoresOneChain(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		st1 := sqltest.MustOpen(t, url)
		st2 := sqltest.MustOpen(t, url)
		k := MustAuditKey(t, st1, "a")
		recs := make([]*datasets.AuditRecord, 400)
		for i := range recs {
			recs[i] = k.use(i)
		}
		for i, err := range appendAll([]*sqlstore.Store{st1, st2}, recs) {
			if err != nil {
				t.Fatalf("append %d: %v", i, err)
			}
		}
		if got := MustVerify(t, st2); got != len(recs) {
			t.Fatalf("chain has %d records, want %d", got, len(recs))
		}
	})
}

// holdChain stands in for a slow commit of another process: it holds the
// write lock (SQLite) or the chain lock (PostgreSQL) until release.
func holdChain(t *testing.T, st *sqlstore.Store) (release func()) {
	t.Helper()
	tx, err := st.DB().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Dialect() == "postgres" {
		if _, err := tx.Exec(sqlstore.AuditLock); err != nil {
			t.Fatal(err)
		}
	} else if _, err := tx.Exec(`UPDATE access_keys SET name = name WHERE 1 = 0`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

// waitQueued waits until n records wait for a commit behind a batch of one
// (which cannot commit while the chain is held).
func waitQueued(t *testing.T, st *sqlstore.Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		queued, inBatch := sqlstore.AuditQueued(st)
		if queued == n && inBatch == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records queued behind a batch of %d, want %d behind 1", queued, inBatch, n)
		}
	}
}

func TestAuditCancelledBeforeCommit(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		st := sqltest.MustOpen(t, url)
		other := sqltest.MustOpen(t, url)
		k := MustAuditKey(t, st, "a")
		release := holdChain(t, other)
		first := make(chan error, 1)
		go func() { first <- st.AppendAudit(context.Background(), k.use(1)) }()
		waitQueued(t, st, 0) // taken into a batch that now waits for the chain
		ctx, cancel := context.WithCancel(context.Background())
		second := make(chan error, 1)
		go func() { second <- st.AppendAudit(ctx, k.use(2)) }()
		waitQueued(t, st, 1)
		cancel()
		if err := <-second; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled append = %v, want context.Canceled", err)
		}
		release()
		if err := <-first; err != nil {
			t.Fatalf("first append: %v", err)
		}
		recs, err := st.AuditRecords(context.Background(), 0, 10)
		if err != nil || len(recs) != 1 || recs[0].RequestID != "r1" {
			t.Fatalf("records %+v, %v; want only the first", recs, err)
		}
		if err := st.AppendAudit(ctx, k.use(3)); !errors.Is(err, context.Canceled) {
			t.Fatalf("append with an ended context = %v", err)
		}
		if MustVerify(t, st) != 1 {
			t.Fatal("a cancelled record was written")
		}
	})
}

// A batch fails whole: every caller gets the error and none of its
// records is written. A trigger refusing one record is the failure.
func TestAuditBatchFailsWhole(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		st := sqltest.MustOpen(t, url)
		other := sqltest.MustOpen(t, url)
		k := MustAuditKey(t, st, "a")
		poison := []string{`CREATE TRIGGER poison BEFORE INSERT ON access_audit_pages WHEN NEW.records LIKE '%"request_id":"poison"%'
			BEGIN SELECT RAISE(ABORT, 'poisoned record'); END`}
		if st.Dialect() == "postgres" {
			poison = []string{`CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN
				IF NEW.records LIKE '%"request_id":"poison"%' THEN RAISE EXCEPTION 'poisoned record'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER poison BEFORE INSERT ON access_audit_pages FOR EACH ROW EXECUTE FUNCTION poison()`}
		}
		for _, q := range poison {
			if _, err := st.DB().Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		release := holdChain(t, other)
		first := make(chan error, 1)
		go func() { first <- st.AppendAudit(context.Background(), k.use(1)) }()
		waitQueued(t, st, 0)
		recs := []*datasets.AuditRecord{k.use(2), k.use(3), k.use(4)}
		recs[1].RequestID = "poison"
		done := make(chan []error, 1)
		go func() { done <- appendAll([]*sqlstore.Store{st}, recs) }()
		waitQueued(t, st, 3)
		release()
		if err := <-first; err != nil {
			t.Fatalf("first append: %v", err)
		}
		for i, err := range <-done {
			if err == nil || datasets.IsCode(err, datasets.EFORBIDDEN) {
				t.Errorf("append %d of the failed batch = %v, want the batch's error", i, err)
			}
			if recs[i].Seq != 0 || recs[i].Hash != "" {
				t.Errorf("record %d of the failed batch was linked: %+v", i, recs[i])
			}
		}
		if n := MustVerify(t, st); n != 1 {
			t.Fatalf("chain has %d records, want only the first", n)
		}
		if err := st.AppendAudit(context.Background(), k.use(5)); err != nil || MustVerify(t, st) != 2 {
			t.Fatalf("append after a failed batch: %v", err)
		}
	})
}

// The key check in the commit refuses uses of revoked keys, grants and
// applications, writing them as 403; refusals and other keys pass.
func TestAuditKeyCheck(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		st := sqltest.MustOpen(t, url)
		valid, revKey, revGrant, revApp := MustAuditKey(t, st, "valid"), MustAuditKey(t, st, "key"), MustAuditKey(t, st, "grant"), MustAuditKey(t, st, "app")
		if err := st.RevokeKey(ctx, revKey.key.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := st.RevokeGrants(ctx, revGrant.app.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		revApp.app.State = datasets.AppRevoked
		if err := st.DecideApplication(ctx, revApp.app, datasets.AppApproved, datasets.ApplicationEvent{Actor: "rev"}, nil); err != nil {
			t.Fatal(err)
		}
		refusal, revokedRefusal := valid.use(8), revKey.use(9)
		refusal.Status, refusal.Rows = 429, 0
		revokedRefusal.Status, revokedRefusal.Rows = 429, 0
		recs := []*datasets.AuditRecord{valid.use(0), revKey.use(1), revGrant.use(2), revApp.use(3), refusal, revokedRefusal}
		errs := appendAll([]*sqlstore.Store{st}, recs)
		for i, want := range []struct {
			forbidden bool
			status    int
			rows      int64
		}{{false, 200, 3}, {true, 403, 0}, {true, 403, 0}, {true, 403, 0}, {false, 429, 0}, {true, 403, 0}} {
			if got := datasets.IsCode(errs[i], datasets.EFORBIDDEN); got != want.forbidden || (!got && errs[i] != nil) {
				t.Errorf("record %d: %v, want forbidden %v", i, errs[i], want.forbidden)
			}
			if recs[i].Status != want.status || recs[i].Rows != want.rows || recs[i].Seq == 0 {
				t.Errorf("record %d written as %+v, want status %d and %d rows", i, recs[i], want.status, want.rows)
			}
		}
		stored, err := st.AuditRecords(ctx, 0, 10)
		if err != nil || len(stored) != len(recs) {
			t.Fatalf("stored %d records, %v", len(stored), err)
		}
		for _, r := range stored {
			if r.RequestID != "r0" && r.RequestID != "r8" && r.Status != 403 {
				t.Errorf("a refused use is stored as allowed: %+v", r)
			}
		}
		MustVerify(t, st)
	})
}

// On PostgreSQL a Store that wrote the chain's last batch commits the next
// in one round trip, betting nothing changed; every lost bet — a key
// revoked since it was cached, another writer moving the chain — is redone
// in full and answered as before, and the chain stays whole.
func TestAuditOneRoundTrip(t *testing.T) {
	sqltest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		st, other := sqltest.MustOpen(t, url), sqltest.MustOpen(t, url)
		if st.Dialect() != "postgres" {
			t.Skip("the one-round-trip commit is PostgreSQL's")
		}
		k, gone := MustAuditKey(t, st, "a"), MustAuditKey(t, st, "b")
		step := func(s *sqlstore.Store, r *datasets.AuditRecord, wantFast, wantMissed int, wantForbidden bool) {
			t.Helper()
			err := s.AppendAudit(ctx, r)
			if datasets.IsCode(err, datasets.EFORBIDDEN) != wantForbidden || (!wantForbidden && err != nil) {
				t.Fatalf("append %s: %v, want forbidden %v", r.RequestID, err, wantForbidden)
			}
			if fast, missed := sqlstore.AuditFastPath(st); fast != wantFast || missed != wantMissed {
				t.Fatalf("after %s: %d fast commits and %d missed, want %d and %d", r.RequestID, fast, missed, wantFast, wantMissed)
			}
		}
		step(st, k.use(1), 0, 0, false)    // the head is unknown: full path
		step(st, k.use(2), 1, 0, false)    // one round trip
		step(st, gone.use(3), 2, 0, false) // not revoked yet
		if err := st.RevokeKey(ctx, gone.key.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		r := gone.use(4)
		step(st, r, 2, 1, true) // the guard refuses the bet; the full path writes a 403
		if r.Status != 403 || r.Rows != 0 {
			t.Fatalf("a use by a revoked key was written as %d with %d rows", r.Status, r.Rows)
		}
		step(other, k.use(5), 2, 1, false) // another writer moves the chain
		step(st, k.use(6), 2, 2, false)    // the bet on the old head fails
		step(st, k.use(7), 3, 2, false)    // and the next one wins again
		ended := MustAuditKey(t, st, "c")
		step(st, ended.use(8), 4, 2, false)
		if err := st.RevokeGrants(ctx, ended.app.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		r = ended.use(9)
		step(st, r, 4, 3, true) // a revoked grant also loses the bet
		if r.Status != 403 {
			t.Fatalf("a use under a revoked grant was written as %d", r.Status)
		}
		if n := MustVerify(t, st); n != 9 {
			t.Fatalf("chain verifies %d records, want 9", n)
		}
		stored, err := st.AuditRecords(ctx, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range stored {
			ids = append(ids, r.RequestID)
		}
		if got := strings.Join(ids, " "); got != "r1 r2 r3 r4 r5 r6 r7 r8 r9" {
			t.Fatalf("chain holds %s, want each record once, in order", got)
		}
	})
}
