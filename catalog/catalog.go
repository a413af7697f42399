// Package catalog stores everything that is not log data: users, access keys,
// sources and their tokens (and, later, dashboards, monitors, lookup tables).
//
// The default backend is SQLite (pure Go, modernc.org/sqlite) in the data
// folder. Secrets are never stored: access keys and source tokens are kept as
// SHA-256 hashes (they are 256-bit random values, so a fast hash is enough),
// passwords as bcrypt hashes.
package catalog

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Errors callers distinguish.
var (
	ErrNotFound     = errors.New("not found")
	ErrUnauthorized = errors.New("invalid credentials")
	ErrConflict     = errors.New("already exists")
	ErrInvalid      = errors.New("invalid")
)

// Catalog is the metadata store.
type Catalog struct {
	db *sql.DB

	// tokens maps the hash of every live source token to its source, so
	// that the ingest path never touches the database and a revoked token
	// stops working the moment the call that revoked it returns.
	mu     sync.RWMutex
	tokens map[[sha256.Size]byte]*Source

	// lookups holds the lookup tables' limits and cache (lookups.go).
	lookups lookupState
}

// Open opens (creating and migrating if needed) the SQLite catalog at path.
func Open(ctx context.Context, path string) (*Catalog, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	// SQLite allows one writer; a single connection avoids SQLITE_BUSY
	// between our own goroutines and is plenty for metadata traffic.
	db.SetMaxOpenConns(1)
	c := &Catalog{db: db, tokens: make(map[[sha256.Size]byte]*Source)}
	if err := c.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	if err := c.loadTokens(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	return c, nil
}

// Close closes the database.
func (c *Catalog) Close() error { return c.db.Close() }

// migrations are applied in order, each once; never edit a released one.
var migrations = []string{
	`CREATE TABLE users (
		id            TEXT PRIMARY KEY,
		name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
		role          TEXT NOT NULL,
		password_hash TEXT NOT NULL DEFAULT '',
		created_at    INTEGER NOT NULL
	);
	CREATE TABLE access_keys (
		id           TEXT PRIMARY KEY,
		user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		key_hash     BLOB NOT NULL,
		created_at   INTEGER NOT NULL,
		last_used_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE sources (
		id         TEXT PRIMARY KEY,
		tenant     INTEGER NOT NULL DEFAULT 0,
		name       TEXT NOT NULL,
		category   TEXT NOT NULL,
		host       TEXT NOT NULL DEFAULT '',
		fields     TEXT NOT NULL DEFAULT '{}',
		multiline  TEXT NOT NULL DEFAULT 'auto',
		timezone   TEXT NOT NULL DEFAULT 'UTC',
		token_hash BLOB NOT NULL UNIQUE,
		created_at INTEGER NOT NULL,
		created_by TEXT NOT NULL DEFAULT ''
	);`,
	// The web UI: login sessions, saved and recent searches (sessions.go,
	// searches.go).
	`CREATE TABLE sessions (
		id_hash      BLOB PRIMARY KEY,
		user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		csrf_token   TEXT NOT NULL,
		created_at   INTEGER NOT NULL,
		last_seen_at INTEGER NOT NULL,
		expires_at   INTEGER NOT NULL
	);
	CREATE INDEX sessions_user ON sessions(user_id);
	CREATE TABLE saved_searches (
		id         TEXT PRIMARY KEY,
		user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		name       TEXT NOT NULL COLLATE NOCASE,
		query      TEXT NOT NULL,
		range_from TEXT NOT NULL,
		range_to   TEXT NOT NULL,
		timezone   TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		UNIQUE (user_id, name)
	);
	CREATE TABLE recent_searches (
		id         INTEGER PRIMARY KEY AUTOINCREMENT,
		user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		query      TEXT NOT NULL,
		range_from TEXT NOT NULL,
		range_to   TEXT NOT NULL,
		timezone   TEXT NOT NULL DEFAULT '',
		at         INTEGER NOT NULL
	);
	CREATE INDEX recent_searches_user ON recent_searches(user_id, at);`,
	// Lookup tables (lookups.go): the schema of each table, and its rows
	// as JSON arrays keyed by the normalised primary key.
	`CREATE TABLE lookup_tables (
		id           TEXT PRIMARY KEY,
		name         TEXT NOT NULL UNIQUE COLLATE NOCASE,
		description  TEXT NOT NULL DEFAULT '',
		columns      TEXT NOT NULL DEFAULT '[]',
		primary_keys TEXT NOT NULL,
		row_count    INTEGER NOT NULL DEFAULT 0,
		size_bytes   INTEGER NOT NULL DEFAULT 0,
		version      INTEGER NOT NULL DEFAULT 0,
		created_at   INTEGER NOT NULL,
		created_by   TEXT NOT NULL DEFAULT '',
		updated_at   INTEGER NOT NULL,
		updated_by   TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE lookup_rows (
		table_id TEXT NOT NULL REFERENCES lookup_tables(id) ON DELETE CASCADE,
		key      TEXT NOT NULL,
		row_json TEXT NOT NULL
	);
	CREATE UNIQUE INDEX lookup_rows_key ON lookup_rows(table_id, key);`,
	// Dashboards (dashboards.go): JSON documents owned by package
	// dashboards; and the installed apps (apps.go) with what they created.
	`CREATE TABLE dashboards (
		id          TEXT PRIMARY KEY,
		title       TEXT NOT NULL,
		folder      TEXT NOT NULL DEFAULT '',
		app         TEXT NOT NULL DEFAULT '',
		app_version TEXT NOT NULL DEFAULT '',
		body        TEXT NOT NULL,
		version     INTEGER NOT NULL,
		created_at  INTEGER NOT NULL,
		created_by  TEXT NOT NULL DEFAULT '',
		updated_at  INTEGER NOT NULL,
		updated_by  TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX dashboards_app ON dashboards(app);
	CREATE TABLE app_installs (
		name         TEXT PRIMARY KEY,
		version      TEXT NOT NULL,
		params       TEXT NOT NULL DEFAULT '{}',
		items        TEXT NOT NULL DEFAULT '[]',
		installed_at INTEGER NOT NULL,
		installed_by TEXT NOT NULL DEFAULT '',
		updated_at   INTEGER NOT NULL,
		updated_by   TEXT NOT NULL DEFAULT ''
	);`,
	// Monitors (monitors.go): definitions (JSON owned by package
	// monitors) with their schedule state, the alert state per group,
	// the history, notification targets, the notification outbox and
	// its delivery log.
	`CREATE TABLE monitors (
		id                TEXT PRIMARY KEY,
		name              TEXT NOT NULL,
		spec              TEXT NOT NULL,
		enabled           INTEGER NOT NULL DEFAULT 0,
		muted_until       INTEGER NOT NULL DEFAULT 0,
		app               TEXT NOT NULL DEFAULT '',
		app_version       TEXT NOT NULL DEFAULT '',
		app_key           TEXT NOT NULL DEFAULT '',
		version           INTEGER NOT NULL DEFAULT 1,
		created_at        INTEGER NOT NULL,
		created_by        TEXT NOT NULL DEFAULT '',
		updated_at        INTEGER NOT NULL,
		updated_by        TEXT NOT NULL DEFAULT '',
		last_window_end   INTEGER NOT NULL DEFAULT 0,
		last_eval_at      INTEGER NOT NULL DEFAULT 0,
		last_result_count INTEGER NOT NULL DEFAULT 0,
		last_error        TEXT NOT NULL DEFAULT '',
		error_since       INTEGER NOT NULL DEFAULT 0,
		error_count       INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX monitors_app ON monitors(app, app_key);
	CREATE TABLE monitor_alerts (
		monitor_id TEXT NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
		group_key  TEXT NOT NULL,
		group_json TEXT NOT NULL DEFAULT '{}',
		state      TEXT NOT NULL,
		value      TEXT NOT NULL DEFAULT '',
		alert_id   TEXT NOT NULL,
		since      INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		targets    TEXT NOT NULL DEFAULT '[]',
		PRIMARY KEY (monitor_id, group_key)
	);
	CREATE TABLE monitor_events (
		id           INTEGER PRIMARY KEY AUTOINCREMENT,
		monitor_id   TEXT NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
		at           INTEGER NOT NULL,
		kind         TEXT NOT NULL,
		severity     TEXT NOT NULL DEFAULT '',
		group_key    TEXT NOT NULL DEFAULT '',
		group_json   TEXT NOT NULL DEFAULT '{}',
		value        TEXT NOT NULL DEFAULT '',
		alert_id     TEXT NOT NULL DEFAULT '',
		window_start INTEGER NOT NULL DEFAULT 0,
		window_end   INTEGER NOT NULL DEFAULT 0,
		message      TEXT NOT NULL DEFAULT '',
		details      TEXT NOT NULL DEFAULT '{}',
		by_user      TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX monitor_events_monitor ON monitor_events(monitor_id, id);
	CREATE TABLE notification_targets (
		id         TEXT PRIMARY KEY,
		name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
		type       TEXT NOT NULL,
		config     TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		created_by TEXT NOT NULL DEFAULT '',
		updated_at INTEGER NOT NULL,
		updated_by TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE notification_outbox (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		monitor_id      TEXT NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
		target_id       TEXT NOT NULL,
		event_id        INTEGER NOT NULL DEFAULT 0,
		kind            TEXT NOT NULL,
		payload         TEXT NOT NULL,
		status          TEXT NOT NULL,
		attempts        INTEGER NOT NULL DEFAULT 0,
		next_attempt_at INTEGER NOT NULL,
		created_at      INTEGER NOT NULL,
		updated_at      INTEGER NOT NULL,
		last_error      TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX notification_outbox_due ON notification_outbox(status, next_attempt_at);
	CREATE TABLE notification_deliveries (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		outbox_id   INTEGER NOT NULL REFERENCES notification_outbox(id) ON DELETE CASCADE,
		monitor_id  TEXT NOT NULL,
		target_id   TEXT NOT NULL,
		attempt     INTEGER NOT NULL,
		at          INTEGER NOT NULL,
		ok          INTEGER NOT NULL,
		status_code INTEGER NOT NULL DEFAULT 0,
		error       TEXT NOT NULL DEFAULT '',
		duration_ms INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX notification_deliveries_monitor ON notification_deliveries(monitor_id, id);
	CREATE INDEX notification_deliveries_outbox ON notification_deliveries(outbox_id);`,
}

func (c *Catalog) migrate(ctx context.Context) error {
	if _, err := c.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	var have int
	if err := c.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this binary knows (%d): refusing to run an older dohyo on a newer catalog", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		tx, err := c.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().Unix()); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}

// randomString returns n random bytes encoded for humans and URLs.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics
		// internally rather than returning errors); keep the contract explicit.
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return b
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns a short random identifier (16 hex digits).
func newID() string { return fmt.Sprintf("%016X", randomBytes(8)) }

// newAccessID returns an access id: 20 upper-case base32 characters.
func newAccessID() string { return "DK" + b32.EncodeToString(randomBytes(11))[:18] }

// newSecret returns a 256-bit secret, URL-safe, with a recognisable prefix so
// secret scanners can find leaked ones.
func newSecret(prefix string) string {
	return prefix + base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

func hashSecret(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

// normalize trims a name and rejects control characters.
func checkText(what, s string, maxLen int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if required && s == "" {
		return "", fmt.Errorf("%w: %s is required", ErrInvalid, what)
	}
	if len(s) > maxLen {
		return "", fmt.Errorf("%w: %s is %d bytes, longer than the limit of %d", ErrInvalid, what, len(s), maxLen)
	}
	for i, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%w: %s has a control character at byte %d", ErrInvalid, what, i)
		}
	}
	return s, nil
}
