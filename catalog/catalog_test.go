package catalog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func openTest(t *testing.T) (*Catalog, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "catalog.db")
	c, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, path
}

func TestBootstrapOnceAndAuthenticate(t *testing.T) {
	ctx := context.Background()
	c, path := openTest(t)
	cr, err := c.Bootstrap(ctx, BootstrapOptions{AccessID: "demo-access-id", AccessKey: "demo-access-key-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	if cr == nil || cr.AccessID != "demo-access-id" || cr.AdminPassword == "" {
		t.Fatalf("bootstrap credentials = %+v", cr)
	}
	again, err := c.Bootstrap(ctx, BootstrapOptions{})
	if err != nil || again != nil {
		t.Fatalf("second bootstrap = %+v, %v; want nil, nil", again, err)
	}
	p, err := c.Authenticate(ctx, "demo-access-id", "demo-access-key-0123456789")
	if err != nil || !p.IsAdmin() || p.UserName != "admin" {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	for _, bad := range [][2]string{{"demo-access-id", "wrong"}, {"nope", "demo-access-key-0123456789"}, {"", ""}} {
		if _, err := c.Authenticate(ctx, bad[0], bad[1]); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("Authenticate(%q, %q) = %v, want ErrUnauthorized", bad[0], bad[1], err)
		}
	}
	if _, err := c.AuthenticatePassword(ctx, "ADMIN", cr.AdminPassword); err != nil {
		t.Errorf("password login (user names are case-insensitive): %v", err)
	}
	if _, err := c.AuthenticatePassword(ctx, "admin", "wrong-password"); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("wrong password: %v", err)
	}
	// The catalog survives a reopen and re-running migrations.
	c.Close()
	c2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Authenticate(ctx, "demo-access-id", "demo-access-key-0123456789"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

func TestSourcesAndTokens(t *testing.T) {
	ctx := context.Background()
	c, path := openTest(t)
	s, token, err := c.CreateSource(ctx, SourceSpec{Name: "web", Category: "prod/web", Fields: map[string]string{"Env": "prod"}}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, TokenPrefix) || len(token) < 40 {
		t.Fatalf("token %q", token)
	}
	if s.Fields["env"] != "prod" || s.Multiline != "auto" || s.TimeZone != "UTC" {
		t.Fatalf("normalised source = %+v", s)
	}
	if got, ok := c.SourceByToken(token); !ok || got.ID != s.ID {
		t.Fatal("token does not resolve")
	}
	if _, ok := c.SourceByToken(token + "x"); ok {
		t.Fatal("wrong token resolves")
	}

	// Tokens survive a restart (only their hashes are stored).
	c.Close()
	c, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.SourceByToken(token); !ok {
		t.Fatal("token lost on reopen")
	}

	_, newToken, err := c.RegenerateToken(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.SourceByToken(token); ok {
		t.Fatal("old token still works after regeneration")
	}
	if _, ok := c.SourceByToken(newToken); !ok {
		t.Fatal("new token does not work")
	}
	list, err := c.ListSources(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list = %v, %v", list, err)
	}
	if err := c.DeleteSource(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.SourceByToken(newToken); ok {
		t.Fatal("token works after delete")
	}
	if _, err := c.GetSource(ctx, s.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if err := c.DeleteSource(ctx, s.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestSourceValidation(t *testing.T) {
	c, _ := openTest(t)
	cases := []struct {
		spec SourceSpec
		want string
	}{
		{SourceSpec{Category: "c"}, "name is required"},
		{SourceSpec{Name: "n"}, "category is required"},
		{SourceSpec{Name: "n", Category: strings.Repeat("c", 1025)}, "category is 1025 bytes"},
		{SourceSpec{Name: "n", Category: "c", Host: "a\x00b"}, "control character"},
		{SourceSpec{Name: "n", Category: "c", Fields: map[string]string{"_x": "1"}}, `field name "_x"`},
		{SourceSpec{Name: "n", Category: "c", Fields: map[string]string{"a.b": "1"}}, `field name "a.b"`},
		{SourceSpec{Name: "n", Category: "c", Multiline: "sometimes"}, `multiline "sometimes"`},
		{SourceSpec{Name: "n", Category: "c", Multiline: "regex:("}, "boundary regex"},
		{SourceSpec{Name: "n", Category: "c", TimeZone: "Mars/Olympus"}, "time zone"},
	}
	for _, tc := range cases {
		_, _, err := c.CreateSource(context.Background(), tc.spec, "")
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want ErrInvalid containing %q", tc.spec, err, tc.want)
		}
	}
}

// Sources created within the same millisecond still list in creation order
// (their IDs are random, so ordering by ID would shuffle them).
func TestListSourcesCreationOrder(t *testing.T) {
	ctx := context.Background()
	c, _ := openTest(t)
	defer c.Close()
	var want []string
	for i := range 30 {
		s, _, err := c.CreateSource(ctx, SourceSpec{Name: fmt.Sprintf("s%02d", i), Category: "c"}, "admin")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, s.ID)
	}
	list, err := c.ListSources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range list {
		got = append(got, s.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("list order %v, want creation order %v", got, want)
	}
}
