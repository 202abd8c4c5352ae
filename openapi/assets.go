package openapi

import (
	"embed"
	"html"
)

// Assets holds the Redoc standalone bundle, copied from the npm package
// redoc (node_modules/redoc/bundles/redoc.standalone.js) so that /docs
// works offline and without a CDN.
//
//go:embed assets/redoc.standalone.js assets/redoc.standalone.js.LICENSE.txt
var Assets embed.FS

// DocsCSP is the Content-Security-Policy of the docs pages: scripts only
// from this origin (the page has no inline script). Redoc injects its
// styles at run time and builds a search worker from a blob, hence those
// two allowances.
const DocsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// DocsPage is an HTML page rendering the document at specURL with Redoc.
func DocsPage(title, specURL string) []byte {
	return []byte(`<!DOCTYPE html>
<html lang="zh-Hant">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + html.EscapeString(title) + `</title>
</head>
<body>
<redoc spec-url="` + html.EscapeString(specURL) + `"></redoc>
<script src="/docs/assets/redoc.standalone.js"></script>
</body>
</html>
`)
}
