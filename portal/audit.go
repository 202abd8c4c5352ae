package portal

import (
	"context"
	"fmt"

	"kaifang/datasets"
)

// RecordUse appends one use of conditional data to the audit chain and
// returns once it is durable; the gateway sends nothing before that.
// EFORBIDDEN means the store's check found the key, its application or
// its grant revoked (see datasets.Access AppendAudit): the record is
// written as a 403, the use must be refused, and this process forgets
// the key so that its next request is refused up front.
func (s *Service) RecordUse(ctx context.Context, r *datasets.AuditRecord) error {
	if r.At.IsZero() {
		r.At = s.now()
	}
	err := s.Access.AppendAudit(ctx, r)
	if datasets.IsCode(err, datasets.EFORBIDDEN) {
		s.ForgetKey(r.KeyID)
	}
	return err
}

// AuditError names the first record of the chain that fails verification.
type AuditError struct {
	Seq    int64
	Reason string
}

func (e *AuditError) Error() string { return fmt.Sprintf("audit record %d %s", e.Seq, e.Reason) }

// VerifyAudit walks the whole chain and returns how many records were
// checked and, on the first altered, missing or reordered record, an error
// naming it (an *AuditError inside an EINTERNAL datasets.Error). A deleted
// last record cannot be told from one never written: compare the count
// with an external copy (backups, log shipping) for that.
func (s *Service) VerifyAudit(ctx context.Context) (int, error) {
	var after int64
	prev := ""
	checked := 0
	for {
		page, err := s.Access.AuditRecords(ctx, after, 1000)
		if err != nil {
			return checked, err
		}
		for i := range page {
			r := &page[i]
			var ae *AuditError
			switch {
			case r.Seq != after+1:
				ae = &AuditError{Seq: after + 1, Reason: fmt.Sprintf("is missing (the next record is %d)", r.Seq)}
			case r.PrevHash != prev:
				ae = &AuditError{Seq: r.Seq, Reason: "does not link to the record before it"}
			case r.Hash != r.ChainHash():
				ae = &AuditError{Seq: r.Seq, Reason: "was altered: its hash does not match its contents"}
			}
			if ae != nil {
				return checked, &datasets.Error{Code: datasets.EINTERNAL, Message: ae.Error(), Err: ae}
			}
			after, prev = r.Seq, r.Hash
			checked++
		}
		if len(page) < 1000 {
			return checked, nil
		}
	}
}
