package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "bootstrap-credentials", `# written by dohyo serve on first start
DOHYO_ACCESS_ID=su0ABCDEF

export DOHYO_ACCESS_KEY="k3y with spaces"
DOHYO_API_URL = http://127.0.0.1:9300
OTHER=ignored
`)
	c, err := LoadCredentials(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessID != "su0ABCDEF" || c.AccessKey != "k3y with spaces" || c.APIURL != "http://127.0.0.1:9300" {
		t.Errorf("got %+v", c)
	}

	for name, content := range map[string]string{
		"no-key":  "DOHYO_ACCESS_ID=a\n",
		"garbage": "DOHYO_ACCESS_ID=a\nthis is not a pair\n",
		"empty":   "# nothing\n",
	} {
		_, err := LoadCredentials(writeFile(t, dir, name, content))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !strings.Contains(err.Error(), filepath.Join(dir, name)) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
	if _, err := LoadCredentials(writeFile(t, dir, "garbage2", "DOHYO_ACCESS_ID=a\nthis is not a pair\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error without the line: %v", err)
	}
	if _, err := LoadCredentials(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestResolveCredentials(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "creds", "DOHYO_ACCESS_ID=fileid\nDOHYO_ACCESS_KEY=filekey\nDOHYO_API_URL=http://file:1\n")
	fileNoURL := writeFile(t, dir, "creds2", "DOHYO_ACCESS_ID=fileid\nDOHYO_ACCESS_KEY=filekey\n")
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	fullEnv := env(map[string]string{EnvAccessID: "envid", EnvAccessKey: "envkey", EnvAPIURL: "http://env:2"})
	noEnv := env(nil)

	cases := []struct {
		name string
		in   CredentialInputs
		want Credentials
		err  string
	}{
		{"flags win", CredentialInputs{AccessID: "fid", AccessKey: "fkey", APIURL: "http://flag:3", File: file, Getenv: fullEnv},
			Credentials{"fid", "fkey", "http://flag:3"}, ""},
		{"env over file", CredentialInputs{File: file, Getenv: fullEnv}, Credentials{"envid", "envkey", "http://env:2"}, ""},
		{"file", CredentialInputs{File: file, Getenv: noEnv}, Credentials{"fileid", "filekey", "http://file:1"}, ""},
		{"file without URL: default", CredentialInputs{File: fileNoURL, Getenv: noEnv}, Credentials{"fileid", "filekey", DefaultAPIURL}, ""},
		{"flags keys, URL from file", CredentialInputs{AccessID: "a", AccessKey: "b", File: file, Getenv: noEnv}, Credentials{"a", "b", "http://file:1"}, ""},
		{"env keys, --api", CredentialInputs{APIURL: "http://flag:3", Getenv: fullEnv}, Credentials{"envid", "envkey", "http://flag:3"}, ""},
		{"half flags", CredentialInputs{AccessID: "a", Getenv: fullEnv}, Credentials{}, "--access-id and --access-key"},
		{"half env", CredentialInputs{Getenv: env(map[string]string{EnvAccessKey: "k"})}, Credentials{}, EnvAccessID},
		{"explicit missing file", CredentialInputs{File: filepath.Join(dir, "nope"), Getenv: noEnv}, Credentials{}, "nope"},
		{"nothing at all", CredentialInputs{Getenv: noEnv}, Credentials{}, "none given"},
	}
	// The default file is relative to the working directory: run in an
	// empty one so that it does not exist.
	wd, _ := os.Getwd()
	if err := os.Chdir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	for _, c := range cases {
		got, err := ResolveCredentials(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}

	// The default file is used when it exists.
	if err := os.MkdirAll("dohyo-data", 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, "dohyo-data", "bootstrap-credentials", "DOHYO_ACCESS_ID=defid\nDOHYO_ACCESS_KEY=defkey\nDOHYO_API_URL=http://def:4\n")
	got, err := ResolveCredentials(CredentialInputs{Getenv: noEnv})
	if err != nil || got != (Credentials{"defid", "defkey", "http://def:4"}) {
		t.Errorf("default file: %+v, %v", got, err)
	}
	// Env keys still take the URL from the default file.
	got, err = ResolveCredentials(CredentialInputs{Getenv: env(map[string]string{EnvAccessID: "e", EnvAccessKey: "k"})})
	if err != nil || got != (Credentials{"e", "k", "http://def:4"}) {
		t.Errorf("env + default file: %+v, %v", got, err)
	}
}
