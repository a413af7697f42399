// Package web serves dohyo's browser UI: the bundle that `npm run build`
// writes to dist/ (committed, so the Go build needs no Node.js) is embedded
// in the binary.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed dist
var dist embed.FS

// ContentSecurityPolicy is sent with every UI response: scripts and styles
// only from the server itself (no inline scripts, no eval, no inline
// styles), no framing. index.html gets the same policy plus a per-response
// nonce for the <style> elements the query editor (CodeMirror) generates.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// policyWithNonce is the policy of index.html.
func policyWithNonce(nonce string) string {
	return strings.Replace(ContentSecurityPolicy, "style-src 'self'", "style-src 'self' 'nonce-"+nonce+"'", 1)
}

// noncePlaceholder is where index.html takes the nonce.
const noncePlaceholder = "__CSP_NONCE__"

// SecurityHeaders sets the headers every UI response carries.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// Handler serves the UI: the files of the bundle (hashed assets with a
// year-long cache), and index.html for every other path so that client-side
// routes (/search?q=...) load the app.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded at build time
	}
	return &handler{files: sub, gz: map[string][]byte{}}
}

type handler struct {
	files fs.FS
	mu    sync.Mutex
	gz    map[string][]byte // gzip-compressed files, made on first use
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	SecurityHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name != "" && name != "index.html" {
		if data, err := fs.ReadFile(h.files, name); err == nil {
			if strings.HasPrefix(name, "assets/") {
				// Vite names assets after their content hash.
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				w.Header().Set("Cache-Control", "no-cache")
			}
			h.serve(w, r, name, data)
			return
		}
		if strings.HasPrefix(name, "assets/") || path.Ext(name) != "" {
			http.NotFound(w, r)
			return
		}
	}
	data, err := fs.ReadFile(h.files, "index.html")
	if err != nil {
		http.Error(w, "the web UI was not built into this binary", http.StatusNotFound)
		return
	}
	nonce := base64.RawStdEncoding.EncodeToString(randomBytes(18))
	w.Header().Set("Content-Security-Policy", policyWithNonce(nonce))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(bytes.ReplaceAll(data, []byte(noncePlaceholder), []byte(nonce))))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// serve writes a file, gzip-compressed when the client accepts it and that
// makes it smaller.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, name string, data []byte) {
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = http.DetectContentType(data)
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Add("Vary", "Accept-Encoding")
	if len(data) > 1024 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") && compressible(ct) {
		if z := h.gzipped(name, data); z != nil {
			w.Header().Set("Content-Encoding", "gzip")
			data = z
		}
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "javascript") || strings.Contains(ct, "json") || strings.Contains(ct, "svg")
}

func (h *handler) gzipped(name string, data []byte) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if z, ok := h.gz[name]; ok {
		return z
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	z := buf.Bytes()
	if len(z) >= len(data) {
		z = nil
	}
	h.gz[name] = z
	return z
}
