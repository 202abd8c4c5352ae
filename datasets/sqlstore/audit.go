package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"kaifang/datasets"
)

// Audit appends are group-committed. Every keyed request appends a record
// and waits for it to be durable, and the chain makes appends serial (each
// record links to the one before), so one transaction per record capped a
// gateway at one commit round trip per request. Instead concurrent callers
// queue; one writer per Store takes every queued record (at most
// auditBatchMax) and, in one transaction, re-checks the keys, takes the
// chain lock, reads the last record, links the whole batch, stores it as
// one page (one row, whatever the batch's size; see insertPage) with its
// usage counts and commits, then wakes each caller with its own result.
// Under load a batch fills while the previous one commits, so the cost of
// a commit is shared.

// auditLock serialises appends to the audit chain on PostgreSQL, so that
// two gateway processes never link two records to the same predecessor.
// It is not the outbox lock: audit appends must not queue behind catalogue writes.
const auditLock = `SELECT pg_advisory_xact_lock(4857302196)`

// auditBatchMax bounds one group commit: 256 records of 17 values stay far
// below either database's limit on bound parameters (SQLite 32766,
// PostgreSQL 65535) and keep one commit's latency bounded.
const auditBatchMax = 256

// auditGenericPlans is queued after BEGIN in every PostgreSQL batch. The
// key check's text differs with the number of keys and grants in the batch,
// so each connection prepares a statement per shape, and PostgreSQL plans
// each one anew for its first five executions before settling on a generic
// plan (when records were one row each, the multi-row INSERT had a shape
// per batch size, and in a 10 s benchmark most batches were such first
// executions). Lookups by primary key have nothing to gain from a custom plan.
const auditGenericPlans = `SET LOCAL plan_cache_mode = force_generic_plan`

// auditCommitTimeout bounds a batch whose callers set no deadline.
const auditCommitTimeout = 30 * time.Second

// auditWaiter is one caller of AppendAudit waiting for its record.
type auditWaiter struct {
	r    *datasets.AuditRecord
	ctx  context.Context
	done chan error // buffered: the writer never blocks on a caller
	// taken and dropped are guarded by auditQueue.mu: taken once a batch
	// holds the record (it will be written or fail with the batch), dropped
	// when its caller gave up first (it will never be written).
	taken, dropped bool
}

// auditQueue holds the records waiting for the next group commit of one Store.
type auditQueue struct {
	mu      sync.Mutex
	pending []*auditWaiter
	running bool // a writer goroutine is draining pending
	inBatch int  // records in the batch being committed (for tests)
	// stmts holds statements prepared once (SQLite only, see
	// auditTx.prepared); only the writer uses it, one at a time.
	stmts map[string]*sql.Stmt
	// head is the chain's last record as this Store last committed it
	// (PostgreSQL, see commitAuditFast); only the writer uses it.
	head chainHead
	// fast counts batches committed in one round trip, missed the bets
	// that failed (for tests).
	fast, missed int
	// page is the writer's buffer for a batch's page (see pageStatements):
	// a page is written before the next one is encoded, so one buffer
	// serves them all.
	page []byte
}

// chainHead is a chain's last record: its sequence number and hash.
type chainHead struct {
	seq   int64
	hash  string
	known bool
}

func (s *Store) auditQueue() *auditQueue { return &s.audit }

// AppendAudit links r to the chain and returns once it is durable. See
// datasets.Access for the contract: concurrent appends share one commit; a
// caller whose ctx ends before its record joins a commit gets an
// EUNAVAILABLE error wrapping ctx.Err() and nothing is written; a use by a
// key that is no longer valid is written as a 403 and returns EFORBIDDEN.
func (s *Store) AppendAudit(ctx context.Context, r *datasets.AuditRecord) error {
	if err := ctx.Err(); err != nil {
		return notStarted(err)
	}
	if r.At.IsZero() {
		r.At = now()
	}
	r.At = r.At.UTC().Truncate(timeUnit)
	if y := r.At.Year(); y < 1 || y > 9999 {
		// Pages store times as RFC 3339, which has four-digit years.
		return datasets.Errorf(datasets.EINVALID, "append audit: record time %v is outside years 0001-9999", r.At)
	}
	if r.Fields == nil {
		r.Fields = []string{}
	}
	validUTF8(r)
	w := &auditWaiter{r: r, ctx: ctx, done: make(chan error, 1)}
	q := s.auditQueue()
	q.mu.Lock()
	q.pending = append(q.pending, w)
	if !q.running {
		q.running = true
		go q.drain(s)
	}
	q.mu.Unlock()
	select {
	case err := <-w.done:
		return err
	case <-ctx.Done():
		q.mu.Lock()
		if !w.taken {
			w.dropped = true
			q.mu.Unlock()
			return notStarted(ctx.Err())
		}
		q.mu.Unlock()
		// In a batch already: it is written or fails with the batch, and
		// the caller must learn which.
		return <-w.done
	}
}

// validUTF8 replaces invalid UTF-8 in r's text (a filter is a client's raw
// query string) with U+FFFD before r is hashed: pages are JSON, which
// cannot carry such bytes, and PostgreSQL's text refuses them, which would
// fail every other record of the batch.
func validUTF8(r *datasets.AuditRecord) {
	for _, s := range []*string{&r.KeyID, &r.UserID, &r.ApplicationID, &r.GrantID, &r.AgencyID, &r.DatasetID, &r.Filter, &r.RequestID} {
		if !utf8.ValidString(*s) {
			*s = strings.ToValidUTF8(*s, "\uFFFD")
		}
	}
	if !utf8.ValidString(string(r.Mode)) {
		r.Mode = datasets.AccessMode(strings.ToValidUTF8(string(r.Mode), "\uFFFD"))
	}
	for i, f := range r.Fields {
		if !utf8.ValidString(f) {
			fields := slices.Clone(r.Fields) // the caller's slice may be a grant's
			for j := i; j < len(fields); j++ {
				fields[j] = strings.ToValidUTF8(fields[j], "\uFFFD")
			}
			r.Fields = fields
			break
		}
	}
}

func notStarted(err error) error {
	return datasets.Wrap(err, datasets.EUNAVAILABLE, "append audit: the record was not written before the caller gave up")
}

// drain commits batches until the queue is empty, then exits; the next
// AppendAudit starts a new writer.
func (q *auditQueue) drain(s *Store) {
	for {
		batch := q.take()
		if batch == nil {
			return
		}
		errs := s.commitAudit(q, batch)
		for i, w := range batch {
			w.done <- errs[i]
		}
	}
}

// take removes up to auditBatchMax live records from the queue and marks
// them taken; nil (and the writer stops) when none is left.
func (q *auditQueue) take() []*auditWaiter {
	q.mu.Lock()
	defer q.mu.Unlock()
	var batch []*auditWaiter
	i := 0
	for ; i < len(q.pending) && len(batch) < auditBatchMax; i++ {
		w := q.pending[i]
		if w.dropped {
			continue
		}
		if err := w.ctx.Err(); err != nil {
			w.dropped = true
			w.done <- notStarted(err)
			continue
		}
		w.taken = true
		batch = append(batch, w)
	}
	if i == len(q.pending) {
		clear(q.pending)          // let the callers' records go
		q.pending = q.pending[:0] // keep the array: the queue refills at the same size
	} else {
		q.pending = append([]*auditWaiter(nil), q.pending[i:]...)
	}
	q.inBatch = len(batch)
	if len(batch) == 0 {
		q.running = false
		return nil
	}
	return batch
}

// batchContext is the context of one commit: no caller can cancel it (they
// are all waiting for its outcome), and it ends at the latest of their
// deadlines, or after auditCommitTimeout for callers without one.
func batchContext(batch []*auditWaiter) (context.Context, context.CancelFunc) {
	limit := time.Now().Add(auditCommitTimeout)
	var latest time.Time
	for _, w := range batch {
		d, ok := w.ctx.Deadline()
		if !ok {
			latest = limit
			break
		}
		if d.After(latest) {
			latest = d
		}
	}
	if latest.After(limit) {
		latest = limit
	}
	return context.WithDeadline(context.Background(), latest)
}

// commitAudit writes one batch in one transaction and returns each caller's
// result: nil, EFORBIDDEN for a use refused by the key check (written as a
// 403), or the transaction's error for all when it failed (nothing written).
// The callers' records are updated only when the commit succeeded.
func (s *Store) commitAudit(q *auditQueue, batch []*auditWaiter) []error {
	ctx, cancel := batchContext(batch)
	defer cancel()
	recs := make([]datasets.AuditRecord, len(batch))
	for i, w := range batch {
		recs[i] = *w.r
	}
	var refused []error
	var err error
	if s.pool != nil {
		retry := !q.head.known
		if q.head.known {
			if retry, err = s.commitAuditFast(ctx, recs, q.head); err == nil {
				refused = make([]error, len(recs))
				q.fast++
			} else if retry {
				q.missed++
			}
		}
		if retry {
			// First batch, another writer moved the chain, a key in the
			// batch is refused, or the batch itself fails: the full path
			// says which, record by record.
			for i, w := range batch {
				recs[i] = *w.r
			}
			refused, err = s.commitAuditPostgres(ctx, recs)
		}
		q.head.known = err == nil
		if err == nil {
			last := &recs[len(recs)-1]
			q.head.seq, q.head.hash = last.Seq, last.Hash
		}
	} else {
		err = s.tx(ctx, "append audit", func(tx *sql.Tx) error {
			at := &auditTx{s: s, q: q, tx: tx}
			var err error
			if refused, err = at.checkUses(ctx, recs); err != nil {
				return err
			}
			var seq int64
			var prev string
			if err := at.last(ctx, &seq, &prev); err != nil {
				return err
			}
			link(recs, refused, seq, prev)
			return at.insert(ctx, recs)
		})
	}
	errs := make([]error, len(batch))
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	copy(errs, refused)
	for i, w := range batch {
		*w.r = recs[i]
	}
	return errs
}

// link numbers recs after the chain's last record (seq, prev) and chains
// their hashes; a refused use is written as a 403 with no rows.
func link(recs []datasets.AuditRecord, refused []error, seq int64, prev string) {
	for i := range recs {
		r := &recs[i]
		if refused[i] != nil {
			r.Status, r.Rows = 403, 0
		}
		seq++
		r.Seq, r.PrevHash = seq, prev
		r.Hash = r.ChainHash()
		prev = r.Hash
	}
}

// lastAudit reads the sequence number and hash of the chain's last record:
// the end of its last page.
const lastAudit = `SELECT last_seq AS seq, last_hash AS hash FROM access_audit_pages ORDER BY last_seq DESC LIMIT 1`

// commitAuditPostgres is the PostgreSQL group commit in two round trips
// instead of six: the transaction's statements are pipelined on one pgx
// connection — BEGIN, the key check, the chain lock and the last record in
// one exchange; the page, the usage counts and COMMIT in the next, once the
// batch is linked.
// Each statement still runs on its own and in order, so the last record is
// read after the lock is held. Under load every statement's round trip was
// a wake-up of the database and of the gateway on a busy machine; a batch
// cost about 1.2 ms of CPU on 2 cores (BENCHMARKS.md).
func (s *Store) commitAuditPostgres(ctx context.Context, recs []datasets.AuditRecord) (refused []error, err error) {
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, s.fail(err, "append audit")
	}
	defer c.Release() // pgxpool destroys a connection left inside a transaction
	open := false
	defer func() {
		if err != nil && open {
			// Whatever failed, leave no transaction behind on the connection.
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = c.Exec(rctx, "ROLLBACK")
			cancel()
		}
	}()

	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(auditGenericPlans)
	checkQ, checkArgs := usesQuery(recs)
	if checkQ != "" {
		b.Queue(s.d.q(checkQ), checkArgs...)
	}
	b.Queue(auditLock)
	b.Queue(lastAudit)
	br := c.SendBatch(ctx, b)
	open = true
	refused, err = readHead(br, recs, checkQ != "")
	var seq int64
	var prev string
	if err == nil {
		err = br.QueryRow().Scan(&seq, &prev)
		if errors.Is(err, pgx.ErrNoRows) {
			err = nil
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, s.fail(err, "append audit")
	}

	link(recs, refused, seq, prev)
	stmts, err := s.pageStatements(recs)
	if err != nil {
		return nil, err
	}
	b = &pgx.Batch{}
	for _, st := range stmts {
		b.Queue(st.query, st.args...)
	}
	b.Queue("COMMIT")
	br = c.SendBatch(ctx, b)
	for range b.Len() {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, s.fail(err, "append audit")
	}
	open = false
	return refused, nil
}

// commitAuditFast commits a batch in one round trip, betting that the
// chain still ends at head (this Store wrote the last batch) and that no key
// in the batch was refused. Five statements, pipelined: BEGIN; the chain
// lock with a guard that fails the transaction if any key, its application
// or its grant was revoked since the gateway cached it (fastLockAndCheck);
// the page of the batch linked to head, inserted only if the last record is
// still head (fastInsertPage); its usage counts; COMMIT. Every text is the
// same for every batch, so unlike the full path no plan setting is needed
// (two statements fewer per batch). A failed bet costs that round trip; the
// caller then takes commitAuditPostgres, which answers record by record.
// Under load the commit cycle halves, and every keyed request waits for one.
//
// retry is true when the database refused the transaction (a guard, or an
// INSERT): nothing was written. Any other failure (the connection lost
// around COMMIT, say) may or may not have written the batch, so it is not
// retried: the callers get the error, as on the full path.
func (s *Store) commitAuditFast(ctx context.Context, recs []datasets.AuditRecord, head chainHead) (retry bool, err error) {
	link(recs, make([]error, len(recs)), head.seq, head.hash)
	stmts, err := s.pageStatements(recs)
	if err != nil {
		return false, err
	}
	c, err := s.pool.Acquire(ctx)
	if err != nil {
		return false, s.fail(err, "append audit")
	}
	defer c.Release()
	keyIDs, grantIDs := useIDs(recs)
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(fastLockAndCheck, keyIDs, string(datasets.AppApproved), grantIDs)
	b.Queue(fastInsertPage, append(stmts[0].args, head.seq, head.hash)...)
	for _, st := range stmts[1:] {
		b.Queue(st.query, st.args...)
	}
	b.Queue("COMMIT")
	br := c.SendBatch(ctx, b)
	for range b.Len() {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = c.Exec(rctx, "ROLLBACK")
		cancel()
		var pgErr *pgconn.PgError
		return errors.As(err, &pgErr), s.fail(err, "append audit")
	}
	return false, nil
}

// fastLockAndCheck takes the chain lock and fails the transaction (a
// division by zero) if any key of the batch ($1), its application (not
// $2, approved) or any grant ($3) was revoked: usesQuery's verdicts, for
// the bet that none is. Key and grant ids travel as arrays, so the text is
// the same for every batch and each connection plans it once.
const fastLockAndCheck = `SELECT pg_advisory_xact_lock(4857302196), 1 / (CASE WHEN EXISTS (
		SELECT 1 FROM access_keys k JOIN access_applications a ON a.id = k.application_id
		WHERE k.id = ANY($1::text[]) AND (k.revoked_at IS NOT NULL OR a.state <> $2))
	OR EXISTS (SELECT 1 FROM access_grants g WHERE g.id = ANY($3::text[]) AND g.revoked_at IS NOT NULL)
	THEN 0 ELSE 1 END)`

// fastInsertPage is insertPage on the bet that the chain still ends at
// the head this Store last wrote ($5, $6): read in the INSERT's own
// snapshot, taken after the lock was granted, so no writer can move it
// before COMMIT; otherwise the count is 0 and the division fails the
// transaction.
const fastInsertPage = `INSERT INTO access_audit_pages (last_seq, first_seq, last_hash, records)
	SELECT $1::bigint, $2::bigint, $3::text, $4::text
	WHERE (SELECT 1 / count(*) FROM (` + lastAudit + `) t WHERE t.seq = $5 AND t.hash = $6) = 1`

// readHead reads the first exchange's results up to the last record:
// BEGIN, auditGenericPlans, the key check's verdicts (all nil when the batch has no keyed
// record) and the lock.
func readHead(br pgx.BatchResults, recs []datasets.AuditRecord, checked bool) ([]error, error) {
	for range 2 { // BEGIN, SET LOCAL
		if _, err := br.Exec(); err != nil {
			return nil, err
		}
	}
	refused := make([]error, len(recs))
	if checked {
		rows, err := br.Query()
		if err != nil {
			return nil, err
		}
		refused, err = judgeUses(recs, rows)
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	return refused, nil
}

// auditTx is one SQLite group commit's transaction (PostgreSQL batches go
// through pgx pipelines: commitAuditFast, commitAuditPostgres).
type auditTx struct {
	s  *Store
	q  *auditQueue
	tx *sql.Tx
}

// stmt returns query prepared, on SQLite only: there it is prepared once
// per connection and kept, since the database runs in process and parsing,
// not a round trip, is what a statement costs. It returns nil on
// PostgreSQL, whose driver caches statements by their text already.
func (at *auditTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if at.s.d.name != "sqlite" {
		return nil, nil
	}
	st, ok := at.q.stmts[query]
	if !ok {
		var err error
		if st, err = at.s.db.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		if at.q.stmts == nil {
			at.q.stmts = map[string]*sql.Stmt{}
		}
		at.q.stmts[query] = st
	}
	return at.tx.StmtContext(ctx, st), nil
}

// query runs query in the transaction, prepared (see stmt) when keep is set.
func (at *auditTx) query(ctx context.Context, keep bool, query string, args ...any) (*sql.Rows, error) {
	query = at.s.d.q(query)
	if keep {
		st, err := at.stmt(ctx, query)
		if err != nil {
			return nil, err
		}
		if st != nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return at.tx.QueryContext(ctx, query, args...)
}

// exec is query for statements that return no rows.
func (at *auditTx) exec(ctx context.Context, keep bool, query string, args ...any) error {
	query = at.s.d.q(query)
	if keep {
		st, err := at.stmt(ctx, query)
		if err != nil {
			return err
		}
		if st != nil {
			_, err := st.ExecContext(ctx, args...)
			return err
		}
	}
	_, err := at.tx.ExecContext(ctx, query, args...)
	return err
}

// last reads the sequence number and hash of the chain's last record;
// zero and "" for an empty chain.
func (at *auditTx) last(ctx context.Context, seq *int64, hash *string) error {
	rows, err := at.query(ctx, true, lastAudit)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(seq, hash); err != nil {
			return err
		}
	}
	return rows.Err()
}

// insertPage stores one linked batch as a page: its records as JSON, in
// chain order, with the sequence numbers it spans and its last hash (the
// next batch's predecessor).
const insertPage = `INSERT INTO access_audit_pages (last_seq, first_seq, last_hash, records) VALUES (?, ?, ?, ?)`

// countUsage adds one batch's uses of one key, grant and entry on one day
// to access_usage, in the batch's transaction: usage is never ahead of or
// behind the chain.
const countUsage = `INSERT INTO access_usage (day, key_id, grant_id, dataset_id, user_id, agency_id, requests, allowed, rows_returned)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (day, key_id, grant_id, dataset_id) DO UPDATE SET requests = access_usage.requests + excluded.requests,
	allowed = access_usage.allowed + excluded.allowed, rows_returned = access_usage.rows_returned + excluded.rows_returned`

// auditStmt is one statement of a batch's write.
type auditStmt struct {
	query string
	args  []any
}

// pageStatements returns the statements that store linked records: the
// page, then one usage count per day (Asia/Shanghai), key, grant and entry,
// in the order they first occur. Their texts never change with the batch,
// so each is prepared once per connection. The page is encoded into the
// writer's buffer, so its statements must run before the next call; pgx
// sends the bytes as they are to the TEXT column, while SQLite's driver
// would store []byte as a BLOB, so it gets a string.
func (s *Store) pageStatements(recs []datasets.AuditRecord) ([]auditStmt, error) {
	q := s.auditQueue()
	q.page = datasets.AppendAuditRecords(q.page[:0], recs)
	var body any = q.page
	if s.pool == nil {
		body = string(q.page)
	}
	first, last := &recs[0], &recs[len(recs)-1]
	out := []auditStmt{{s.d.q(insertPage), []any{last.Seq, first.Seq, last.Hash, body}}}
	type group struct{ day, key, grant, dataset string }
	type count struct {
		user, agency         string
		requests, ok, rowsIn int64
	}
	var order []group
	counts := map[group]*count{}
	for i := range recs {
		r := &recs[i]
		g := group{r.At.In(shanghai).Format(time.DateOnly), r.KeyID, r.GrantID, r.DatasetID}
		c, ok := counts[g]
		if !ok {
			c = &count{user: r.UserID, agency: r.AgencyID}
			counts[g] = c
			order = append(order, g)
		}
		c.requests++
		if r.Status >= 200 && r.Status < 300 {
			c.ok++
		}
		if r.Rows > 0 { // -1: admitted, rows not counted
			c.rowsIn += r.Rows
		}
	}
	cq := s.d.q(countUsage)
	for _, g := range order {
		c := counts[g]
		out = append(out, auditStmt{cq, []any{g.day, g.key, g.grant, g.dataset, c.user, c.agency, c.requests, c.ok, c.rowsIn}})
	}
	return out, nil
}

// insert stores linked records on SQLite, each statement prepared once.
func (at *auditTx) insert(ctx context.Context, recs []datasets.AuditRecord) error {
	stmts, err := at.s.pageStatements(recs)
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if err := at.exec(ctx, true, st.query, st.args...); err != nil {
			return err
		}
	}
	return nil
}

// isUse reports whether a record is a request made with a key, which the
// key check must confirm. Refusals are checked too, so that a revoked key
// is answered 403 rather than by whatever else refused it (429, say).
func isUse(r *datasets.AuditRecord) bool { return r.KeyID != "" }

// checkUses is the authoritative key check: gateways cache keys, so in the
// transaction that makes the records durable, one query confirms for every
// keyed record in the batch that its key is not revoked, its application is still
// approved and its grant is not revoked. It returns, per record, nil or the
// EFORBIDDEN that refuses it. Expiry is not checked here: it is a property
// of the cached key and grant, checked by the gateway from their times.
func (at *auditTx) checkUses(ctx context.Context, recs []datasets.AuditRecord) ([]error, error) {
	q, args := usesQuery(recs)
	if q == "" {
		return make([]error, len(recs)), nil
	}
	// The usual shapes, a batch of one or two keys, are kept prepared.
	rows, err := at.query(ctx, len(args) <= 4, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return judgeUses(recs, rows)
}

// useIDs lists the distinct keys and grants of a batch's uses, in the
// order they first occur (never nil: they travel as arrays).
func useIDs(recs []datasets.AuditRecord) (keyIDs, grantIDs []string) {
	keyIDs, grantIDs = []string{}, []string{}
	for i := range recs {
		r := &recs[i]
		if !isUse(r) {
			continue
		}
		if !slices.Contains(keyIDs, r.KeyID) {
			keyIDs = append(keyIDs, r.KeyID)
		}
		if r.GrantID != "" && !slices.Contains(grantIDs, r.GrantID) {
			grantIDs = append(grantIDs, r.GrantID)
		}
	}
	return keyIDs, grantIDs
}

// usesQuery is the key check's query for a batch: one row per key (with
// its application's state) and per grant the batch names; "" when no
// record in the batch was made with a key.
func usesQuery(recs []datasets.AuditRecord) (string, []any) {
	keyIDs, grantIDs := useIDs(recs)
	if len(keyIDs) == 0 {
		return "", nil
	}
	args := make([]any, 0, len(keyIDs)+len(grantIDs))
	q := `SELECT 'k', k.id, k.prefix, CASE WHEN k.revoked_at IS NULL THEN 0 ELSE 1 END, a.state
		FROM access_keys k JOIN access_applications a ON a.id = k.application_id WHERE k.id IN (` + placeholders(len(keyIDs)) + `)`
	for _, id := range keyIDs {
		args = append(args, id)
	}
	if len(grantIDs) > 0 {
		q += ` UNION ALL SELECT 'g', g.id, '', CASE WHEN g.revoked_at IS NULL THEN 0 ELSE 1 END, ''
		FROM access_grants g WHERE g.id IN (` + placeholders(len(grantIDs)) + `)`
		for _, id := range grantIDs {
			args = append(args, id)
		}
	}
	return q, args
}

// resultRows is what judgeUses reads: *sql.Rows and pgx.Rows both are.
type resultRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// judgeUses reads usesQuery's rows and returns, per record, nil or the
// EFORBIDDEN that refuses it.
func judgeUses(recs []datasets.AuditRecord, rows resultRows) ([]error, error) {
	type state struct {
		prefix, app string
		revoked     bool
	}
	keys, grants := map[string]state{}, map[string]state{}
	for rows.Next() {
		var kind, id string
		var st state
		var revoked int64
		if err := rows.Scan(&kind, &id, &st.prefix, &revoked, &st.app); err != nil {
			return nil, err
		}
		st.revoked = revoked != 0
		if kind == "k" {
			keys[id] = st
		} else {
			grants[id] = st
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	refused := make([]error, len(recs))
	for i := range recs {
		r := &recs[i]
		if !isUse(r) {
			continue
		}
		k, ok := keys[r.KeyID]
		g, gok := grants[r.GrantID]
		switch {
		case !ok:
			// Keys are never deleted: an id the store does not know was
			// not issued by it (a fixture or an imported log), so there is
			// no revocation to enforce.
		case k.revoked:
			refused[i] = datasets.Errorf(datasets.EFORBIDDEN, "API key %s was revoked", k.prefix)
		case k.app != string(datasets.AppApproved):
			refused[i] = datasets.Errorf(datasets.EFORBIDDEN, "the application of API key %s is %s", k.prefix, k.app)
		case gok && g.revoked:
			refused[i] = datasets.Errorf(datasets.EFORBIDDEN, "the grant of API key %s was revoked", k.prefix)
		}
	}
	return refused, nil
}

// placeholders returns n comma-separated ? placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
