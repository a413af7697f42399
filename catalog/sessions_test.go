package catalog

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestSessionLifetime(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, filepath.Join(t.TempDir(), "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u, err := c.CreateUser(ctx, "ann", RoleUser, "ann-password")
	if err != nil {
		t.Fatal(err)
	}
	lim := SessionLimits{MaxAge: time.Hour, IdleTimeout: time.Hour}
	s, err := c.CreateSession(ctx, u.ID, lim)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.LookupSession(ctx, s.ID, lim)
	if err != nil || got.Principal.UserName != "ann" || got.CSRFToken != s.CSRFToken {
		t.Fatalf("lookup = %+v, %v", got, err)
	}
	// The id is not stored: a lookup by its hash or a prefix fails.
	for _, id := range []string{"", s.ID[:20], s.ID + "x"} {
		if _, err := c.LookupSession(ctx, id, lim); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("lookup %q: %v", id, err)
		}
	}
	// Idle for longer than the idle timeout: gone, and deleted.
	time.Sleep(20 * time.Millisecond)
	short := SessionLimits{MaxAge: time.Hour, IdleTimeout: 10 * time.Millisecond}
	if _, err := c.LookupSession(ctx, s.ID, short); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("idle session: %v", err)
	}
	if _, err := c.LookupSession(ctx, s.ID, lim); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("an idle session was not deleted: %v", err)
	}
	// Past its absolute lifetime.
	s2, err := c.CreateSession(ctx, u.ID, SessionLimits{MaxAge: 10 * time.Millisecond, IdleTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := c.LookupSession(ctx, s2.ID, lim); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("expired session: %v", err)
	}
	// Logout.
	s3, _ := c.CreateSession(ctx, u.ID, lim)
	if err := c.DeleteSession(ctx, s3.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LookupSession(ctx, s3.ID, lim); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("deleted session: %v", err)
	}
}
