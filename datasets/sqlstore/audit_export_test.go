package sqlstore

// AuditQueued counts the records waiting for the next group commit and
// those in the batch being committed, so tests can tell when a batch has
// been taken or a caller queued.
func AuditQueued(s *Store) (queued, inBatch int) {
	q := s.auditQueue()
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, w := range q.pending {
		if !w.dropped && !w.taken {
			n++
		}
	}
	return n, q.inBatch
}

// AuditLock is the statement that takes the PostgreSQL chain lock.
const AuditLock = auditLock

// AuditFastPath counts a Store's batches committed in one round trip and
// the one-round-trip attempts that failed and were redone in full.
func AuditFastPath(s *Store) (fast, missed int) {
	q := s.auditQueue()
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.fast, q.missed
}
