package web

import (
	"net/url"
	"slices"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
	"kaifang/gateway"
)

func statusOf(code string) int { return gateway.StatusOf(code) }

// keyPlaceholder stands where a developer pastes their own key.
const keyPlaceholder = "YOUR_API_KEY"

type apiExample struct {
	Lang, Code string
}

type datasetAPIData struct {
	D        *datasets.Dataset
	Base     string
	Records  string // URL of the records endpoint with an example filter
	Examples []apiExample
	Modes    []datasets.AccessMode
}

func (s *site) handleDevelopers(c *fiber.Ctx, v *view) error {
	v.Title = v.T("dev.title")
	return s.render(c, v, "developers", map[string]string{"Base": c.BaseURL(), "Key": keyPlaceholder})
}

// handleDatasetAPI documents one entry's API with examples to copy, each
// with the developer's key as a placeholder.
func (s *site) handleDatasetAPI(c *fiber.Ctx, v *view) error {
	d, err := s.d.Catalog.PublicDataset(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	v.Title = v.Tf("api.title", d.Title)
	base := c.BaseURL()
	q := url.Values{"limit": {"10"}}
	if len(d.Fields) > 0 {
		q.Set("fields", d.Fields[0].Name)
	}
	rec := base + "/api/v1/datasets/" + d.Slug + "/records?" + q.Encode()
	dd := datasetAPIData{D: d, Base: base, Records: rec, Modes: d.AccessModes}
	auth := ""
	if d.OpenClass == datasets.Conditional {
		auth = keyPlaceholder
	}
	dd.Examples = examples(rec, auth)
	if !slices.Contains(d.AccessModes, datasets.Query) && d.OpenClass == datasets.Conditional {
		dd.Examples = nil
	}
	return s.render(c, v, "dataset_api", dd)
}

func examples(u, key string) []apiExample {
	curl := "curl -sS '" + u + "'"
	py := "import requests\n\nr = requests.get(\n    \"" + u + "\",\n"
	js := "const r = await fetch(\"" + u + "\""
	if key != "" {
		curl += " \\\n  -H 'X-API-Key: " + key + "'"
		py += "    headers={\"X-API-Key\": \"" + key + "\"},\n"
		js += ", {\n  headers: { \"X-API-Key\": \"" + key + "\" },\n}"
	}
	py += "    timeout=30,\n)\nr.raise_for_status()\nprint(r.json()[\"items\"])"
	js += ");\nif (!r.ok) throw new Error(r.status);\nconsole.log((await r.json()).items);"
	return []apiExample{{"curl", curl}, {"Python", py}, {"JavaScript", js}}
}
