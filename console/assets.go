package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/numauth/numauth"
)

//go:embed assets
var assetFiles embed.FS

// assetVersions holds a short hash of each asset's content. Pages link to /assets/NAME?v=HASH, so an asset
// can be cached for a year and a new build still reaches every browser.
var assetVersions = func() map[string]string {
	v := make(map[string]string)
	entries, err := fs.ReadDir(assetFiles, "assets")
	if err != nil {
		panic(err) // the directory is embedded
	}
	for _, e := range entries {
		if assetTypes[path.Ext(e.Name())] == "" {
			panic("console: no media type for asset " + e.Name())
		}
		b, err := assetFiles.ReadFile("assets/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		v[e.Name()] = hex.EncodeToString(sum[:6])
	}
	return v
}()

// assetTypes are the assets' media types, fixed here rather than read from the system's MIME table: with
// nosniff, a script served under another type would not run.
var assetTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

// assetURL is the template function that links to an asset.
func assetURL(name string) string {
	v, ok := assetVersions[name]
	if !ok {
		panic("console: no asset " + name) // a template names a file that is not embedded
	}
	return "/assets/" + name + "?v=" + v
}

// asset serves an embedded file.
func (h *Handler) asset(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	version, ok := assetVersions[name]
	if !ok {
		return numauth.Errorf(numauth.ENOTFOUND, "", "no asset %q", name)
	}
	b, err := assetFiles.ReadFile("assets/" + name)
	if err != nil {
		return numauth.Internal(err, "read asset %q", name)
	}
	w.Header().Set("Content-Type", assetTypes[path.Ext(name)])
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("ETag", `"`+version+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	return nil
}
