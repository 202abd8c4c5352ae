package search

import (
	"context"
	"log/slog"
	"time"

	"kaifang/datasets"
)

// CursorName is the outbox consumer name of the search indexer.
const CursorName = "search"

// outboxBatch bounds how many events one Sync step reads at a time.
const outboxBatch = 500

// Indexer applies the catalogue's outbox to the index. Every event only
// says "this entry changed"; the indexer loads the entry's current public
// form and upserts it, or deletes it when the entry is no longer public, so
// applying an event twice, or an old event after a newer one, leaves the
// same index. The cursor moves only after the index accepted a batch, so a
// crash repeats work rather than losing it.
type Indexer struct {
	cat    datasets.Catalog
	idx    datasets.Index
	logger *slog.Logger
}

// NewIndexer returns an indexer from cat to idx; logger may be nil.
func NewIndexer(cat datasets.Catalog, idx datasets.Index, logger *slog.Logger) *Indexer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Indexer{cat: cat, idx: idx, logger: logger}
}

// Sync applies every event after the cursor, in order, and returns how
// many it applied. On error the cursor stays after the last batch the
// index accepted, and the next Sync resumes there.
func (x *Indexer) Sync(ctx context.Context) (int, error) {
	if st, ok := x.idx.(interface{ Stale() bool }); ok && st.Stale() {
		// Built by an earlier version: rebuild rather than answer
		// without what this version indexes.
		x.logger.Warn("search index was built by an earlier version; rebuilding it from the catalogue")
		if err := x.Reindex(ctx); err != nil {
			return 0, err
		}
	}
	cursor, err := x.cat.Cursor(ctx, CursorName)
	if err != nil {
		return 0, err
	}
	applied := 0
	for {
		evs, err := x.cat.Outbox(ctx, cursor, outboxBatch)
		if err != nil {
			return applied, err
		}
		if len(evs) == 0 {
			return applied, nil
		}
		if err := x.apply(ctx, evs); err != nil {
			return applied, err
		}
		last := evs[len(evs)-1].Seq
		if err := x.cat.SetCursor(ctx, CursorName, last); err != nil {
			return applied, err
		}
		cursor = last
		applied += len(evs)
		if len(evs) < outboxBatch {
			return applied, nil
		}
	}
}

// apply loads each changed entry once (later events of the same entry read
// the same current state) and writes upserts and deletes in event order.
func (x *Indexer) apply(ctx context.Context, evs []datasets.OutboxEvent) error {
	seen := map[string]bool{}
	var ups []datasets.Dataset
	var dels []string
	flush := func() error {
		if len(ups) > 0 {
			if err := x.idx.Upsert(ctx, ups...); err != nil {
				return err
			}
			ups = ups[:0]
		}
		if len(dels) > 0 {
			if err := x.idx.Delete(ctx, dels...); err != nil {
				return err
			}
			dels = dels[:0]
		}
		return nil
	}
	for _, ev := range evs {
		if seen[ev.DatasetID] {
			continue
		}
		seen[ev.DatasetID] = true
		d, err := x.cat.PublicDataset(ctx, ev.DatasetID)
		switch {
		case datasets.IsCode(err, datasets.ENOTFOUND):
			dels = append(dels, ev.DatasetID)
		case err != nil:
			return err
		default:
			ups = append(ups, *d)
		}
	}
	return flush()
}

// Lag returns how many outbox events the index has not applied yet, for /readyz.
func (x *Indexer) Lag(ctx context.Context) (int64, error) {
	cursor, err := x.cat.Cursor(ctx, CursorName)
	if err != nil {
		return 0, err
	}
	var lag int64
	for {
		evs, err := x.cat.Outbox(ctx, cursor, outboxBatch)
		if err != nil {
			return 0, err
		}
		lag += int64(len(evs))
		if len(evs) < outboxBatch {
			return lag, nil
		}
		cursor = evs[len(evs)-1].Seq
	}
}

// Run syncs every interval until ctx ends, logging failures; an engine
// outage only delays the index, which catches up on the next round.
func (x *Indexer) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := x.Sync(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			x.logger.Warn("search index sync failed; will retry", "err", err, "applied", n)
		} else if n > 0 {
			x.logger.Debug("search index synced", "applied", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Reindex rebuilds the index from the catalogue: it notes the newest outbox
// seq first, empties the index, upserts every public entry page by page and
// then sets the cursor to the noted seq. Changes committed during the
// rebuild have a later seq and are applied by the next Sync.
func (x *Indexer) Reindex(ctx context.Context) error {
	latest, err := x.latestSeq(ctx)
	if err != nil {
		return err
	}
	if err := x.idx.Reset(ctx); err != nil {
		return err
	}
	const per = 500
	n := 0
	for page := 1; ; page++ {
		ds, total, err := x.cat.PublicDatasets(ctx, datasets.DatasetFilter{Page: page, PerPage: per, Sort: "created"})
		if err != nil {
			return err
		}
		if len(ds) > 0 {
			if err := x.idx.Upsert(ctx, ds...); err != nil {
				return err
			}
		}
		n += len(ds)
		if len(ds) < per || n >= total {
			break
		}
	}
	// One segment instead of a dozen makes every search cheaper; a failure
	// leaves a correct index, only a slower one.
	if c, ok := x.idx.(interface{ Compact(context.Context) error }); ok {
		if err := c.Compact(ctx); err != nil {
			x.logger.Warn("compacting the rebuilt search index failed", "err", err)
		}
	}
	x.logger.Info("search index rebuilt", "entries", n, "cursor", latest)
	return x.cat.SetCursor(ctx, CursorName, latest)
}

func (x *Indexer) latestSeq(ctx context.Context) (int64, error) {
	// Every event up to the cursor is older, so scanning starts there.
	cursor, err := x.cat.Cursor(ctx, CursorName)
	if err != nil {
		return 0, err
	}
	for {
		evs, err := x.cat.Outbox(ctx, cursor, outboxBatch)
		if err != nil {
			return 0, err
		}
		if len(evs) == 0 {
			return cursor, nil
		}
		cursor = evs[len(evs)-1].Seq
		if len(evs) < outboxBatch {
			return cursor, nil
		}
	}
}
