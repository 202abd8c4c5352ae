package web

import (
	"crypto/sha256"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded static file under its content-hashed name.
type asset struct {
	body        []byte
	contentType string
}

// assetSet maps logical names ("app.css") to hashed URLs and serves them.
// A hashed name changes whenever the bytes do, so a response may be cached
// for a year without a stale file ever being served.
type assetSet struct {
	urls   map[string]string // logical name -> /static/hashed name
	sri    map[string]string // logical name -> subresource integrity value
	byName map[string]asset  // hashed name -> file
}

func loadAssets() (*assetSet, error) {
	as := &assetSet{urls: map[string]string{}, sri: map[string]string{}, byName: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(b)
		ext := path.Ext(name)
		base := strings.TrimSuffix(name, ext)
		if strings.HasSuffix(base, ".min") { // echarts.min.js -> echarts.<hash>.min.js
			base, ext = strings.TrimSuffix(base, ".min"), ".min"+ext
		}
		hashed := base + "." + hex.EncodeToString(sum[:])[:12] + ext
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		as.urls[name] = "/static/" + hashed
		s384 := sha512.Sum384(b)
		as.sri[name] = "sha384-" + base64.StdEncoding.EncodeToString(s384[:])
		as.byName[hashed] = asset{body: b, contentType: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: loading static assets: %w", err)
	}
	return as, nil
}

// url returns the hashed URL of a logical asset name; an unknown name is a
// template bug and shows as a broken link the tests catch.
func (as *assetSet) url(name string) string {
	if u, ok := as.urls[name]; ok {
		return u
	}
	return "/static/missing-" + name
}

func (s *site) handleStatic(c *fiber.Ctx) error {
	a, ok := s.assets.byName[c.Params("file")]
	if !ok {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentType, a.contentType)
	return c.Send(a.body)
}
