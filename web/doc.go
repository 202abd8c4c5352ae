// Package web owns the human-facing site of Kaifang: server-rendered pages for
// citizens (home, search, agency open lists, dataset pages with preview, chart
// and downloads), the developer guide and per-dataset API pages, and the
// sign-in pages, all on the same fiber app as the gateway.
//
// Pages are html/template with every UI string in a message catalogue
// (繁體中文 by default, 简体中文, English), so a language is added by adding a
// catalogue, not by touching templates. Static assets are embedded in the
// binary under content-hashed names, which lets them be cached for a year and
// keeps the site working with no CDN and no outside fonts.
//
// The page routes carry their own security headers: a Content-Security-Policy
// without inline script (JSON-LD and chart data ride in non-executable
// <script type="application/…json"> blocks), frame denial, nosniff and a strict
// referrer policy. Forms are protected by a CSRF token bound to a signed,
// HttpOnly, SameSite session cookie.
//
// The site reads entries only through Catalog.PublicDataset and
// PublicDatasets and the search index, which holds public entries only, so a
// closed or unpublished entry has no page. Errors become an HTML page whose
// status comes from the gateway's one mapping (gateway.StatusOf).
package web
