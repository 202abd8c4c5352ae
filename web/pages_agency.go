package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/portal"
)

type agencyData struct {
	Agency  *datasets.Agency
	Items   []portal.OpenListItem
	Overdue int
}

func (s *site) handleAgencies(c *fiber.Ctx, v *view) error {
	as, err := s.d.Catalog.Agencies(c.UserContext())
	if err != nil {
		return err
	}
	v.Title = v.T("agencies.title")
	return s.render(c, v, "agencies", as)
}

// handleAgency shows an agency's public open list (art. 31) with each
// entry's update status.
func (s *site) handleAgency(c *fiber.Ctx, v *view) error {
	ctx := c.UserContext()
	a, err := s.d.Catalog.Agency(ctx, c.Params("slug"))
	if err != nil {
		return err
	}
	v.Title = a.Name
	d := agencyData{Agency: a}
	if s.d.Portal != nil {
		l, err := s.d.Portal.PublicOpenList(ctx, a.ID)
		if err != nil {
			return err
		}
		d.Items = l.Items
	} else {
		ds, _, err := s.d.Catalog.PublicDatasets(ctx, datasets.DatasetFilter{AgencyID: a.ID, Sort: "title", PerPage: 1000})
		if err != nil {
			return err
		}
		now := time.Now()
		for _, x := range ds {
			t := portal.TimelinessOf(&x, now)
			d.Items = append(d.Items, portal.OpenListItem{
				ID: x.ID, Slug: x.Slug, Title: x.Title, Description: x.Description, Category: x.Category,
				OpenClass: x.OpenClass, Frequency: x.Frequency, Formats: x.Formats, Fields: x.Fields,
				AccessModes: x.AccessModes, LegalBasis: x.LegalBasis, LastChange: t.LastUpdate,
				NextDue: t.NextDue, Overdue: t.Overdue, CurrentVersion: x.CurrentVersion,
			})
		}
	}
	for _, it := range d.Items {
		if it.Overdue {
			d.Overdue++
		}
	}
	return s.render(c, v, "agency", d)
}
