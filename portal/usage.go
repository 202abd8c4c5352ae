package portal

import (
	"context"

	"kaifang/datasets"
)

// Usage returns usage counts the user may see: developers their own keys,
// publishers and reviewers their agency's data, admins everything (as
// narrowed by f).
func (s *Service) Usage(ctx context.Context, u *datasets.User, f datasets.UsageFilter) ([]datasets.Usage, error) {
	if err := needUser(u); err != nil {
		return nil, err
	}
	switch u.Role {
	case datasets.RoleAdmin:
	case datasets.RolePublisher, datasets.RoleReviewer:
		f.AgencyID = u.AgencyID
	default:
		f.UserID = u.ID
	}
	out, err := s.Access.Usage(ctx, f)
	if out == nil && err == nil {
		out = []datasets.Usage{}
	}
	return out, err
}
