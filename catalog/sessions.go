package catalog

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// Session is a web UI login session. The session id is a 256-bit random
// secret known only to the browser (the catalog keeps its SHA-256); the
// CSRF token is bound to the session and sent back by the UI in a header
// with every state-changing request.
type Session struct {
	// ID is the secret cookie value; it is only set by CreateSession.
	ID        string
	CSRFToken string
	Principal Principal
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
}

// SessionLimits bound a session's life.
type SessionLimits struct {
	// MaxAge is the absolute lifetime from login.
	MaxAge time.Duration
	// IdleTimeout ends a session not used for this long.
	IdleTimeout time.Duration
}

// DefaultSessionLimits: a working week at most, half a day idle.
func DefaultSessionLimits() SessionLimits {
	return SessionLimits{MaxAge: 7 * 24 * time.Hour, IdleTimeout: 12 * time.Hour}
}

// touchEvery spaces the writes of a session's last use.
const touchEvery = time.Minute

// CreateSession starts a session for the user.
func (c *Catalog) CreateSession(ctx context.Context, userID string, lim SessionLimits) (*Session, error) {
	now := time.Now()
	s := &Session{
		ID:        base64.RawURLEncoding.EncodeToString(randomBytes(32)),
		CSRFToken: base64.RawURLEncoding.EncodeToString(randomBytes(32)),
		CreatedAt: now,
		LastSeen:  now,
		ExpiresAt: now.Add(lim.MaxAge),
	}
	err := c.db.QueryRowContext(ctx, `SELECT id, name, role FROM users WHERE id = ?`, userID).
		Scan(&s.Principal.UserID, &s.Principal.UserName, &s.Principal.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: user %q", ErrNotFound, userID)
	} else if err != nil {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	h := hashSecret(s.ID)
	if _, err := c.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		h[:], userID, s.CSRFToken, now.UnixMilli(), now.UnixMilli(), s.ExpiresAt.UnixMilli()); err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	// Opportunistic clean-up of dead sessions.
	c.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?`, now.UnixMilli(), now.Add(-lim.IdleTimeout).UnixMilli())
	return s, nil
}

// LookupSession returns the live session with the given id and records its
// use. Unknown, expired and idle sessions give ErrUnauthorized (idle and
// expired ones are deleted).
func (c *Catalog) LookupSession(ctx context.Context, id string, lim SessionLimits) (*Session, error) {
	if id == "" || len(id) > 128 {
		return nil, ErrUnauthorized
	}
	h := hashSecret(id)
	s := &Session{}
	var created, seen, expires int64
	err := c.db.QueryRowContext(ctx, `SELECT s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, u.id, u.name, u.role
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`, h[:]).
		Scan(&s.CSRFToken, &created, &seen, &expires, &s.Principal.UserID, &s.Principal.UserName, &s.Principal.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnauthorized
	} else if err != nil {
		return nil, fmt.Errorf("look up session: %w", err)
	}
	now := time.Now()
	s.CreatedAt, s.LastSeen, s.ExpiresAt = time.UnixMilli(created), time.UnixMilli(seen), time.UnixMilli(expires)
	if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeen) >= lim.IdleTimeout {
		c.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, h[:])
		return nil, ErrUnauthorized
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		if _, err := c.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?`, now.UnixMilli(), h[:]); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
		s.LastSeen = now
	}
	return s, nil
}

// DeleteSession ends a session (logout). Unknown ids are not an error.
func (c *Catalog) DeleteSession(ctx context.Context, id string) error {
	h := hashSecret(id)
	if _, err := c.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, h[:]); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of a user (a password change or a
// removed user).
func (c *Catalog) DeleteUserSessions(ctx context.Context, userID string) error {
	if _, err := c.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete sessions: %w", err)
	}
	return nil
}
