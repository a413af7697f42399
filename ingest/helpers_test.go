package ingest

import (
	"os"
	"path/filepath"
	"testing"
)

// findSharedData looks upwards from the package directory for the
// project's real sample data (../shared/data beside the repository, i.e.
// ../../shared/data from here) and returns the path of rel inside it.
func findSharedData(rel string) (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, "shared", "data")
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			full := filepath.Join(p, rel)
			_, err := os.Stat(full)
			return full, err == nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// sharedData is findSharedData for tests that need the data: they skip when
// it is absent, so that a fresh clone still passes (the data is not in the
// repository; see shared/data/README.md).
func sharedData(tb testing.TB, rel string) string {
	tb.Helper()
	p, ok := findSharedData(rel)
	if !ok {
		tb.Skipf("skipping: needs the real sample data shared/data/%s (expected at ../../shared/data relative to the package), which is not there", rel)
	}
	return p
}
