package catalog

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Roles.
const (
	RoleAdmin = "admin"
	RoleUser  = "user"
)

// Principal is an authenticated caller.
type Principal struct {
	UserID   string
	UserName string
	Role     string
	AccessID string // the access key used, if any
}

// IsAdmin reports whether the principal has the admin role.
func (p *Principal) IsAdmin() bool { return p != nil && p.Role == RoleAdmin }

// BootstrapOptions sets the first admin's credentials; empty values are
// generated.
type BootstrapOptions struct {
	AdminName     string // default "admin"
	AdminPassword string
	AccessID      string
	AccessKey     string
}

// Credentials are the secrets created by Bootstrap, shown once.
type Credentials struct {
	AdminName     string
	AdminPassword string
	AccessID      string
	AccessKey     string
}

// Bootstrap creates the first admin user and access key when the catalog has
// no users. It returns nil credentials when the catalog was already set up.
func (c *Catalog) Bootstrap(ctx context.Context, o BootstrapOptions) (*Credentials, error) {
	var n int
	if err := c.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return nil, fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	cr := &Credentials{AdminName: o.AdminName, AdminPassword: o.AdminPassword, AccessID: o.AccessID, AccessKey: o.AccessKey}
	if cr.AdminName == "" {
		cr.AdminName = "admin"
	}
	if cr.AdminPassword == "" {
		cr.AdminPassword = b32.EncodeToString(randomBytes(15))
	}
	if cr.AccessID == "" {
		cr.AccessID = newAccessID()
	}
	if cr.AccessKey == "" {
		cr.AccessKey = newSecret("")
	}
	if err := checkAccessID(cr.AccessID); err != nil {
		return nil, err
	}
	if len(cr.AccessKey) < 16 {
		return nil, fmt.Errorf("%w: access key must be at least 16 characters", ErrInvalid)
	}
	u, err := c.CreateUser(ctx, cr.AdminName, RoleAdmin, cr.AdminPassword)
	if err != nil {
		return nil, err
	}
	if err := c.addAccessKey(ctx, u.ID, cr.AccessID, cr.AccessKey); err != nil {
		return nil, err
	}
	return cr, nil
}

func checkAccessID(id string) error {
	if len(id) < 8 || len(id) > 64 {
		return fmt.Errorf("%w: access id must be 8 to 64 characters", ErrInvalid)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("%w: access id may only hold letters, digits, '-' and '_'", ErrInvalid)
		}
	}
	return nil
}

// User is a dohyo user.
type User struct {
	ID        string
	Name      string
	Role      string
	CreatedAt time.Time
}

// CreateUser adds a user with a bcrypt-hashed password.
func (c *Catalog) CreateUser(ctx context.Context, name, role, password string) (*User, error) {
	name, err := checkText("user name", name, 64, true)
	if err != nil {
		return nil, err
	}
	if role != RoleAdmin && role != RoleUser {
		return nil, fmt.Errorf("%w: role %q (want %q or %q)", ErrInvalid, role, RoleAdmin, RoleUser)
	}
	if len(password) < 8 {
		return nil, fmt.Errorf("%w: password must be at least 8 characters", ErrInvalid)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	u := &User{ID: newID(), Name: name, Role: role, CreatedAt: time.Now().UTC()}
	_, err = c.db.ExecContext(ctx, `INSERT INTO users (id, name, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		u.ID, u.Name, u.Role, string(hash), u.CreatedAt.UnixMilli())
	if err != nil {
		if isUniqueViolation(err) {
			return nil, fmt.Errorf("%w: user %q", ErrConflict, name)
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// CreateAccessKey mints a new access id and key for a user. The key is
// returned once and never stored.
func (c *Catalog) CreateAccessKey(ctx context.Context, userID string) (id, key string, err error) {
	id, key = newAccessID(), newSecret("")
	return id, key, c.addAccessKey(ctx, userID, id, key)
}

func (c *Catalog) addAccessKey(ctx context.Context, userID, id, key string) error {
	h := hashSecret(key)
	_, err := c.db.ExecContext(ctx, `INSERT INTO access_keys (id, user_id, key_hash, created_at) VALUES (?, ?, ?, ?)`,
		id, userID, h[:], time.Now().UnixMilli())
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: access id %q", ErrConflict, id)
		}
		return fmt.Errorf("create access key: %w", err)
	}
	return nil
}

// Authenticate checks an access id and key. Unknown ids and wrong keys give
// the same error and take the same path.
func (c *Catalog) Authenticate(ctx context.Context, accessID, key string) (*Principal, error) {
	var stored []byte
	p := &Principal{AccessID: accessID}
	err := c.db.QueryRowContext(ctx, `SELECT k.key_hash, u.id, u.name, u.role FROM access_keys k JOIN users u ON u.id = k.user_id WHERE k.id = ?`,
		accessID).Scan(&stored, &p.UserID, &p.UserName, &p.Role)
	if errors.Is(err, sql.ErrNoRows) {
		stored = make([]byte, 32)
	} else if err != nil {
		return nil, fmt.Errorf("look up access key: %w", err)
	}
	h := hashSecret(key)
	if subtle.ConstantTimeCompare(stored, h[:]) != 1 || p.UserID == "" {
		return nil, ErrUnauthorized
	}
	return p, nil
}

// AuthenticatePassword checks a user name and password.
func (c *Catalog) AuthenticatePassword(ctx context.Context, name, password string) (*Principal, error) {
	var hash string
	p := &Principal{}
	err := c.db.QueryRowContext(ctx, `SELECT id, name, role, password_hash FROM users WHERE name = ?`, name).Scan(&p.UserID, &p.UserName, &p.Role, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		// Spend the same time as a real comparison.
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return nil, ErrUnauthorized
	} else if err != nil {
		return nil, fmt.Errorf("look up user: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, ErrUnauthorized
	}
	return p, nil
}

// dummyHash is compared against for unknown users so that a login attempt
// takes as long whether or not the user exists.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("dohyo-dummy-password"), bcrypt.DefaultCost)
	return h
})

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
