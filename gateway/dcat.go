package gateway

import (
	"bytes"
	"context"
	"mime"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"kaifang/datasets"
)

// The DCAT-AP 3 export describes every public entry, and nothing else: it
// reads the catalogue only through PublicDatasets, so a closed, draft or
// withdrawn entry has no way into it.

const euAuthority = "http://publications.europa.eu/resource/authority/"

// dcatThemes maps categories onto the EU data-theme table. Employment sits
// with social security under SOCI (the table has no labour theme), credit
// and enterprise registration under ECON, and weather under ENVI (the table
// has no meteorology theme; ENVI covers climate and weather). Other has no
// theme rather than a wrong one.
var dcatThemes = map[datasets.Category]struct{ Code, Label string }{
	datasets.Credit:         {"ECON", "Economy and finance"},
	datasets.Enterprise:     {"ECON", "Economy and finance"},
	datasets.Transport:      {"TRAN", "Transport"},
	datasets.Healthcare:     {"HEAL", "Health"},
	datasets.Employment:     {"SOCI", "Population and society"},
	datasets.SocialSecurity: {"SOCI", "Population and society"},
	datasets.Education:      {"EDUC", "Education, culture and sport"},
	datasets.Environment:    {"ENVI", "Environment"},
	datasets.Weather:        {"ENVI", "Environment"},
}

// dcatFrequencies maps update frequencies onto the EU frequency table;
// realtime feeds are CONT (continuous).
var dcatFrequencies = map[datasets.Frequency]struct{ Code, Label string }{
	datasets.Realtime:  {"CONT", "continuous"},
	datasets.Daily:     {"DAILY", "daily"},
	datasets.Weekly:    {"WEEKLY", "weekly"},
	datasets.Monthly:   {"MONTHLY", "monthly"},
	datasets.Quarterly: {"QUARTERLY", "quarterly"},
	datasets.Yearly:    {"ANNUAL", "annual"},
	datasets.Irregular: {"IRREG", "irregular"},
}

// dcatFileTypes maps file extensions onto the EU file-type table and IANA
// media types.
var dcatFileTypes = map[string]struct{ Code, Media string }{
	"csv":  {"CSV", "text/csv"},
	"json": {"JSON", "application/json"},
	"xlsx": {"XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
	"xls":  {"XLS", "application/vnd.ms-excel"},
	"pdf":  {"PDF", "application/pdf"},
	"xml":  {"XML", "application/xml"},
	"zip":  {"ZIP", "application/zip"},
	"txt":  {"TXT", "text/plain"},
	"html": {"HTML", "text/html"},
}

// dcatConversions are the formats a tabular version can be downloaded in
// besides its original (download.go's conversions that DCAT can name).
var dcatConversions = []string{"csv", "json", "xlsx"}

// knownLicences maps licence names that open lists use onto their IRIs.
var knownLicences = map[string]string{
	"cc-by-4.0":  "http://publications.europa.eu/resource/authority/licence/CC_BY_4_0",
	"cc by 4.0":  "http://publications.europa.eu/resource/authority/licence/CC_BY_4_0",
	"cc0":        "http://publications.europa.eu/resource/authority/licence/CC0",
	"cc0-1.0":    "http://publications.europa.eu/resource/authority/licence/CC0",
	"政府資料開放授權條款": "https://data.gov.tw/license",
	"政府资料开放授权条款": "https://data.gov.tw/license",
	"odc-by":     "http://publications.europa.eu/resource/authority/licence/ODC_BY",
	"odc-odbl":   "http://publications.europa.eu/resource/authority/licence/ODC_ODBL",
}

// dcatPage is how many entries the export reads from the catalogue at a time.
const dcatPage = 200

// dcatExport writes the catalogue as a sequence of nodes. Vocabulary terms
// and agents are written once, the first time an entry uses them; the
// catalogue node comes last, when the entry IRIs are known, so that only
// those IRIs (not the entries) are held while writing.
type dcatExport struct {
	base    string // scheme://host, no trailing slash
	cat     datasets.Catalog
	out     rdfWriter
	written map[string]bool
	agency  map[string]*datasets.Agency
}

func (x *dcatExport) catalogIRI() string   { return x.base + "/catalog" }
func (x *dcatExport) publisherIRI() string { return x.base + "/#publisher" }
func (x *dcatExport) datasetIRI(d *datasets.Dataset) string {
	return x.base + "/api/v1/datasets/" + url.PathEscape(d.ID)
}
func (x *dcatExport) agentIRI(id string) string {
	return x.base + "/api/v1/agencies/" + url.PathEscape(id)
}
func (x *dcatExport) pageURL(d *datasets.Dataset) string {
	return x.base + "/datasets/" + url.PathEscape(d.Slug)
}

// once writes n unless a node with its IRI was written already.
func (x *dcatExport) once(n *rdfNode) error {
	if x.written[n.ID] {
		return nil
	}
	x.written[n.ID] = true
	return x.out.node(n)
}

func (x *dcatExport) concept(scheme, code, label string, types ...string) (string, error) {
	id := euAuthority + scheme + "/" + code
	n := &rdfNode{ID: id, Types: append(types, "skos:Concept")}
	n.add("skos:prefLabel", langLit(label, "en"))
	n.add("skos:inScheme", iri(euAuthority+scheme))
	return id, x.once(n)
}

func (x *dcatExport) document(id string) (string, error) {
	return id, x.once(&rdfNode{ID: id, Types: []string{"foaf:Document"}})
}

func dcatTime(t time.Time) rdfTerm {
	return typedLit(t.UTC().Format("2006-01-02T15:04:05Z"), "xsd:dateTime")
}

func (x *dcatExport) run(ctx context.Context) error {
	if err := x.out.begin(); err != nil {
		return err
	}
	var ids []string
	var newest time.Time
	for page := 1; ; page++ {
		ds, total, err := x.cat.PublicDatasets(ctx, datasets.DatasetFilter{Sort: "created", Page: page, PerPage: dcatPage})
		if err != nil {
			return err
		}
		for i := range ds {
			d := &ds[i]
			if !d.IsPublic() { // PublicDatasets promises this; the export does not lean on it alone
				continue
			}
			if err := x.dataset(ctx, d); err != nil {
				return err
			}
			ids = append(ids, x.datasetIRI(d))
			if d.UpdatedAt.After(newest) {
				newest = d.UpdatedAt
			}
		}
		if len(ds) < dcatPage || page*dcatPage >= total {
			break
		}
	}
	pub := &rdfNode{ID: x.publisherIRI(), Types: []string{"foaf:Agent"}}
	pub.add("foaf:name", langLit("開放數據平台", "zh-Hant"))
	pub.add("foaf:name", langLit("Kaifang open data platform", "en"))
	if err := x.once(pub); err != nil {
		return err
	}
	lang, err := x.concept("language", "ZHO", "Chinese", "dct:LinguisticSystem")
	if err != nil {
		return err
	}
	home, err := x.document(x.base + "/")
	if err != nil {
		return err
	}
	c := &rdfNode{ID: x.catalogIRI(), Types: []string{"dcat:Catalog"}}
	c.add("dct:title", langLit("開放數據目錄", "zh-Hant"))
	c.add("dct:title", langLit("Kaifang open data catalogue", "en"))
	c.add("dct:description", langLit("本平台所有公開（無條件開放及有條件開放）數據目錄條目。", "zh-Hant"))
	c.add("dct:description", langLit("Every public (open and conditionally open) entry of this platform's open lists.", "en"))
	c.add("dct:publisher", iri(x.publisherIRI()))
	c.add("dct:language", iri(lang))
	c.add("foaf:homepage", iri(home))
	if !newest.IsZero() {
		c.add("dct:modified", dcatTime(newest))
	}
	for _, id := range ids {
		c.add("dcat:dataset", iri(id))
	}
	if err := x.out.node(c); err != nil {
		return err
	}
	return x.out.end()
}

func (x *dcatExport) agent(ctx context.Context, ref datasets.AgencyRef) (*datasets.Agency, error) {
	if a, ok := x.agency[ref.ID]; ok {
		return a, nil
	}
	a, err := x.cat.Agency(ctx, ref.ID)
	if datasets.IsCode(err, datasets.ENOTFOUND) {
		a, err = &datasets.Agency{ID: ref.ID, Slug: ref.Slug, Name: ref.Name}, nil
	}
	if err != nil {
		return nil, err
	}
	x.agency[ref.ID] = a
	a2 := &rdfNode{ID: x.agentIRI(a.ID), Types: []string{"foaf:Agent"}}
	a2.add("foaf:name", langLit(a.Name, "zh"))
	if err := x.once(a2); err != nil {
		return nil, err
	}
	if cp := x.contactPoint(a); cp != nil {
		if err := x.once(cp); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// contactPoint describes what the agency's contact field holds: an e-mail
// address, a telephone number, or else the agency's website.
func (x *dcatExport) contactPoint(a *datasets.Agency) *rdfNode {
	contact := strings.TrimSpace(a.Contact)
	n := &rdfNode{ID: x.agentIRI(a.ID) + "#contact", Types: []string{"vcard:Organization", "vcard:Kind"}}
	n.add("vcard:fn", langLit(a.Name, "zh"))
	switch {
	case strings.Contains(contact, "@") && !strings.ContainsAny(contact, " <>\"") && !strings.HasPrefix(contact, "@"):
		n.add("vcard:hasEmail", iri("mailto:"+strings.TrimPrefix(contact, "mailto:")))
	case contact != "" && strings.Trim(contact, "0123456789+-() ") == "":
		n.add("vcard:hasTelephone", iri("tel:"+strings.NewReplacer(" ", "", "(", "", ")", "").Replace(contact)))
	case strings.HasPrefix(a.Website, "http://") || strings.HasPrefix(a.Website, "https://"):
		n.add("vcard:hasURL", iri(a.Website))
	default:
		return nil
	}
	return n
}

func (x *dcatExport) licence(d *datasets.Dataset) (string, error) {
	l := strings.TrimSpace(d.License)
	if l == "" {
		return "", nil
	}
	id := knownLicences[strings.ToLower(l)]
	if id == "" && (strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")) && !strings.ContainsAny(l, " \t\n") {
		id = l
	}
	n := &rdfNode{Types: []string{"dct:LicenseDocument"}}
	if id == "" {
		// A licence named only in words gets a node of its own carrying the words.
		id = x.datasetIRI(d) + "#licence"
		n.add("rdfs:label", langLit(l, "zh"))
	}
	n.ID = id
	return id, x.once(n)
}

func extOf(v *datasets.Version) string {
	if e := strings.TrimPrefix(strings.ToLower(path.Ext(v.Filename)), "."); e != "" {
		return e
	}
	mt, _, _ := mime.ParseMediaType(v.MediaType)
	for ext, ft := range dcatFileTypes {
		if ft.Media == mt {
			return ext
		}
	}
	return ""
}

func (x *dcatExport) dataset(ctx context.Context, d *datasets.Dataset) error {
	a, err := x.agent(ctx, d.Agency)
	if err != nil {
		return err
	}
	dsIRI := x.datasetIRI(d)
	n := &rdfNode{ID: dsIRI, Types: []string{"dcat:Dataset"}}
	n.add("dct:identifier", plainLit(d.ID))
	// Titles and descriptions come from open lists in either script, so
	// they are tagged plain zh; the platform's own texts are zh-Hant.
	n.add("dct:title", langLit(d.Title, "zh"))
	desc := strings.TrimSpace(d.Description)
	if desc == "" {
		desc = d.Title // DCAT-AP requires a description
	}
	n.add("dct:description", langLit(desc, "zh"))
	n.add("dct:publisher", iri(x.agentIRI(a.ID)))
	if x.written[x.agentIRI(a.ID)+"#contact"] {
		n.add("dcat:contactPoint", iri(x.agentIRI(a.ID)+"#contact"))
	}
	if th, ok := dcatThemes[d.Category]; ok {
		id, err := x.concept("data-theme", th.Code, th.Label)
		if err != nil {
			return err
		}
		n.add("dcat:theme", iri(id))
	}
	for _, t := range d.Tags {
		if t = strings.TrimSpace(t); t != "" {
			n.add("dcat:keyword", langLit(t, "zh"))
		}
	}
	if f, ok := dcatFrequencies[d.Frequency]; ok {
		id, err := x.concept("frequency", f.Code, f.Label, "dct:Frequency")
		if err != nil {
			return err
		}
		n.add("dct:accrualPeriodicity", iri(id))
	}
	issued := d.CreatedAt
	if d.PublishedAt != nil {
		issued = *d.PublishedAt
	}
	n.add("dct:issued", dcatTime(issued))
	n.add("dct:modified", dcatTime(d.UpdatedAt))
	right, label := "PUBLIC", "public"
	if d.OpenClass != datasets.Open {
		right, label = "RESTRICTED", "restricted"
	}
	rights, err := x.concept("access-right", right, label, "dct:RightsStatement")
	if err != nil {
		return err
	}
	n.add("dct:accessRights", iri(rights))
	lang, err := x.concept("language", "ZHO", "Chinese", "dct:LinguisticSystem")
	if err != nil {
		return err
	}
	n.add("dct:language", iri(lang))
	page, err := x.document(x.pageURL(d))
	if err != nil {
		return err
	}
	n.add("dcat:landingPage", iri(page))
	lic, err := x.licence(d)
	if err != nil {
		return err
	}
	dists, err := x.distributions(d, lic)
	if err != nil {
		return err
	}
	for _, dn := range dists {
		n.add("dcat:distribution", iri(dn.ID))
	}
	if err := x.out.node(n); err != nil {
		return err
	}
	for _, dn := range dists {
		if err := x.out.node(dn); err != nil {
			return err
		}
	}
	return nil
}

// distributions describes how the entry can be had. An open entry with a
// ready file has its original file plus, for tables, each converted format;
// a conditional entry (or an open one with no file yet) has one
// distribution pointing at its page, where access is applied for, and no
// download URL at all.
func (x *dcatExport) distributions(d *datasets.Dataset, lic string) ([]*rdfNode, error) {
	dsIRI, page := x.datasetIRI(d), x.pageURL(d)
	v := d.CurrentVersion
	if d.OpenClass != datasets.Open || v == nil || v.State != datasets.VersionReady {
		n := &rdfNode{ID: dsIRI + "#access", Types: []string{"dcat:Distribution"}}
		n.add("dcat:accessURL", iri(page))
		if d.OpenClass != datasets.Open {
			n.add("dct:description", langLit("有條件開放：經申請審核通過後，以接口方式提供。", "zh-Hant"))
		}
		if lic != "" {
			n.add("dct:license", iri(lic))
		}
		return []*rdfNode{n}, nil
	}
	download := x.base + "/api/v1/datasets/" + url.PathEscape(d.Slug) + "/download"
	var out []*rdfNode
	add := func(ext, downloadURL, media string, orig bool) error {
		n := &rdfNode{ID: dsIRI + "#dist-" + url.PathEscape(ext), Types: []string{"dcat:Distribution"}}
		if orig {
			n.ID = dsIRI + "#dist-original"
		}
		n.add("dct:title", langLit(strings.ToUpper(ext), "en"))
		n.add("dcat:accessURL", iri(page))
		n.add("dcat:downloadURL", iri(downloadURL))
		if mt, _, err := mime.ParseMediaType(media); err == nil && strings.Count(mt, "/") == 1 {
			mtIRI := "http://www.iana.org/assignments/media-types/" + mt
			if err := x.once(&rdfNode{ID: mtIRI, Types: []string{"dct:MediaType"}}); err != nil {
				return err
			}
			n.add("dcat:mediaType", iri(mtIRI))
		}
		if ft, ok := dcatFileTypes[ext]; ok {
			id, err := x.concept("file-type", ft.Code, ft.Code, "dct:MediaTypeOrExtent")
			if err != nil {
				return err
			}
			n.add("dct:format", iri(id))
		}
		if orig {
			// DCAT-AP 3.0.0's shapes type byteSize as xsd:decimal.
			n.add("dcat:byteSize", typedLit(strconv.FormatInt(v.Size, 10), "xsd:decimal"))
			if v.SHA256 != "" {
				sum := &rdfNode{ID: n.ID + "-sha256", Types: []string{"spdx:Checksum"}}
				// The DCAT-AP 3.0.x vocabulary shapes want the algorithm IRI
				// in https form (pattern ^https://spdx.org/rdf/terms).
				alg := &rdfNode{ID: "https://spdx.org/rdf/terms#checksumAlgorithm_sha256", Types: []string{"spdx:ChecksumAlgorithm"}}
				if err := x.once(alg); err != nil {
					return err
				}
				sum.add("spdx:algorithm", iri(alg.ID))
				sum.add("spdx:checksumValue", typedLit(v.SHA256, "xsd:hexBinary"))
				if err := x.once(sum); err != nil {
					return err
				}
				n.add("spdx:checksum", iri(sum.ID))
			}
			n.add("dct:modified", dcatTime(v.CreatedAt))
		}
		if lic != "" {
			n.add("dct:license", iri(lic))
		}
		out = append(out, n)
		return nil
	}
	orig := extOf(v)
	if err := add(orig, download, v.MediaType, true); err != nil {
		return nil, err
	}
	if v.Tabular() {
		for _, f := range dcatConversions {
			if f == orig {
				continue
			}
			if err := add(f, download+"?format="+f, dcatFileTypes[f].Media, false); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// writeDCAT writes the DCAT-AP catalogue of every public entry to buf.
func writeDCAT(ctx context.Context, cat datasets.Catalog, base string, jsonld bool, buf *bytes.Buffer) error {
	x := &dcatExport{
		base: strings.TrimRight(base, "/"), cat: cat, out: newRDFWriter(buf, jsonld),
		written: map[string]bool{}, agency: map[string]*datasets.Agency{},
	}
	if err := x.run(ctx); err != nil {
		return err
	}
	return nil
}

func (s *Server) handleCatalogTurtle(c *fiber.Ctx) error { return s.serveDCAT(c, false) }

func (s *Server) handleCatalogJSONLD(c *fiber.Ctx) error { return s.serveDCAT(c, true) }

// serveDCAT pages through the catalogue into one buffer before answering,
// so that a store failure half-way becomes a problem document rather than
// a truncated graph that parses as a smaller catalogue.
func (s *Server) serveDCAT(c *fiber.Ctx, jsonld bool) error {
	var buf bytes.Buffer
	if err := writeDCAT(reqCtx(c), s.d.Catalog, c.BaseURL(), jsonld, &buf); err != nil {
		return err
	}
	if jsonld {
		c.Set(fiber.HeaderContentType, "application/ld+json; charset=utf-8")
	} else {
		c.Set(fiber.HeaderContentType, "text/turtle; charset=utf-8")
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(buf.Bytes())
}
