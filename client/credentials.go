package client

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Environment variables and bootstrap-file keys for credentials.
const (
	EnvAccessID  = "DOHYO_ACCESS_ID"
	EnvAccessKey = "DOHYO_ACCESS_KEY"
	EnvAPIURL    = "DOHYO_API_URL"
)

// DefaultCredentialsFile is where `dohyo serve` with the default data
// folder writes the first access key.
const DefaultCredentialsFile = "./dohyo-data/bootstrap-credentials"

// Credentials are what an API client needs.
type Credentials struct {
	AccessID  string
	AccessKey string
	APIURL    string
}

// LoadCredentials reads a bootstrap credentials file: env-style lines
// KEY=VALUE (DOHYO_ACCESS_ID, DOHYO_ACCESS_KEY, DOHYO_API_URL), blank lines
// and # comments; an "export " prefix and quotes around the value are
// accepted. Unknown keys are ignored. The file must name both the access ID
// and the key; the API URL is optional.
func LoadCredentials(path string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("credentials file: %w", err)
	}
	defer f.Close()
	var c Credentials
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		text = strings.TrimPrefix(text, "export ")
		key, val, ok := strings.Cut(text, "=")
		if !ok {
			return Credentials{}, fmt.Errorf("credentials file %s, line %d: expected KEY=VALUE", path, line)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if len(val) >= 2 && (val[0] == '"' && val[len(val)-1] == '"' || val[0] == '\'' && val[len(val)-1] == '\'') {
			if val[0] == '"' {
				if uq, err := strconv.Unquote(val); err == nil {
					val = uq
				} else {
					val = val[1 : len(val)-1]
				}
			} else {
				val = val[1 : len(val)-1]
			}
		}
		switch key {
		case EnvAccessID:
			c.AccessID = val
		case EnvAccessKey:
			c.AccessKey = val
		case EnvAPIURL:
			c.APIURL = val
		}
	}
	if err := sc.Err(); err != nil {
		return Credentials{}, fmt.Errorf("credentials file %s: %w", path, err)
	}
	var missing []string
	if c.AccessID == "" {
		missing = append(missing, EnvAccessID)
	}
	if c.AccessKey == "" {
		missing = append(missing, EnvAccessKey)
	}
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("credentials file %s: no %s", path, strings.Join(missing, " and no "))
	}
	return c, nil
}

// CredentialInputs are the places credentials can come from, as the command
// line sees them.
type CredentialInputs struct {
	// Flags --access-id, --access-key and --api (empty when not given).
	AccessID, AccessKey, APIURL string
	// File is --credentials; empty means DefaultCredentialsFile, used only if
	// it exists.
	File string
	// Getenv reads the environment (os.Getenv when nil).
	Getenv func(string) string
}

// ResolveCredentials picks credentials in this order: the flags
// --access-id/--access-key, then the environment (DOHYO_ACCESS_ID,
// DOHYO_ACCESS_KEY), then the credentials file. The API URL comes from --api,
// then DOHYO_API_URL, then the file, then DefaultAPIURL. An ID and its key
// always come from the same place.
func ResolveCredentials(in CredentialInputs) (Credentials, error) {
	getenv := in.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var out Credentials
	var file *Credentials
	var fileErr error
	loadFile := func() {
		if file != nil || fileErr != nil {
			return
		}
		path := in.File
		explicit := path != ""
		if !explicit {
			path = DefaultCredentialsFile
		}
		c, err := LoadCredentials(path)
		if err != nil {
			if !explicit && errors.Is(err, fs.ErrNotExist) {
				fileErr = errNoFile
				return
			}
			fileErr = err
			return
		}
		file = &c
	}

	switch {
	case in.AccessID != "" || in.AccessKey != "":
		if in.AccessID == "" || in.AccessKey == "" {
			return Credentials{}, fmt.Errorf("credentials: --access-id and --access-key must be given together")
		}
		out.AccessID, out.AccessKey = in.AccessID, in.AccessKey
	case getenv(EnvAccessID) != "" || getenv(EnvAccessKey) != "":
		id, key := getenv(EnvAccessID), getenv(EnvAccessKey)
		if id == "" || key == "" {
			return Credentials{}, fmt.Errorf("credentials: environment variables %s and %s must be set together", EnvAccessID, EnvAccessKey)
		}
		out.AccessID, out.AccessKey = id, key
	default:
		loadFile()
		if fileErr == errNoFile {
			return Credentials{}, fmt.Errorf("credentials: none given; use --access-id/--access-key, set %s/%s, or point --credentials at a bootstrap-credentials file (default %s, not found)", EnvAccessID, EnvAccessKey, DefaultCredentialsFile)
		}
		if fileErr != nil {
			return Credentials{}, fmt.Errorf("credentials: %w", fileErr)
		}
		out.AccessID, out.AccessKey = file.AccessID, file.AccessKey
	}

	switch {
	case in.APIURL != "":
		out.APIURL = in.APIURL
	case getenv(EnvAPIURL) != "":
		out.APIURL = getenv(EnvAPIURL)
	default:
		loadFile()
		if fileErr != nil && fileErr != errNoFile && in.File != "" {
			return Credentials{}, fmt.Errorf("credentials: %w", fileErr)
		}
		if file != nil && file.APIURL != "" {
			out.APIURL = file.APIURL
		} else {
			out.APIURL = DefaultAPIURL
		}
	}
	return out, nil
}

var errNoFile = errors.New("no credentials file")
