package web

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

func TestIndexAndClientRoutes(t *testing.T) {
	h := Handler()
	var nonces []string
	for _, path := range []string{"/", "/search", "/search?q=error&from=-15m", "/some/client/route"} {
		resp := get(t, h, path)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), `<div id="app">`) {
			t.Fatalf("%s: %d %q, want index.html", path, resp.StatusCode, body)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		m := regexp.MustCompile(`style-src 'self' 'nonce-([A-Za-z0-9+/]+)'`).FindStringSubmatch(csp)
		if m == nil || !strings.Contains(string(body), `content="`+m[1]+`"`) {
			t.Fatalf("%s: CSP %q and the page's nonce do not match", path, csp)
		}
		nonces = append(nonces, m[1])
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "default-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("CSP %q allows inline code", csp)
		}
		if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: security headers %v", path, resp.Header)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, cc)
		}
		if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).Match(body) {
			t.Errorf("index.html has an inline script")
		}
	}
	if nonces[0] == nonces[1] {
		t.Errorf("the nonce is not fresh per response")
	}
}

func TestAssets(t *testing.T) {
	h := Handler()
	sub, _ := fs.Sub(dist, "dist")
	assets, err := fs.Glob(sub, "assets/*.js")
	if err != nil || len(assets) == 0 {
		t.Fatalf("no JavaScript in dist/assets: %v", err)
	}
	resp := get(t, h, "/"+assets[0], "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("%s: %d %s", assets[0], resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("hashed asset Cache-Control %q", cc)
	}
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("asset not compressed")
	} else {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		want, _ := fs.ReadFile(sub, assets[0])
		if string(plain) != string(want) {
			t.Errorf("gzipped asset differs from the file")
		}
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("asset without nosniff")
	}
	for _, path := range []string{"/assets/missing.js", "/nope.png"} {
		if resp := get(t, h, path); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
	req := httptest.NewRequest("POST", "/search", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", w.Code)
	}
}
