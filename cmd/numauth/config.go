package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/aesgcm"
	"github.com/numauth/numauth/sqlstore"
)

// StoreConfig says where numauth keeps its state. Every command that touches the database takes it.
type StoreConfig struct {
	DataDir string // local files: the SQLite database by default, the master key
	DB      string // a DSN; empty means SQLite inside DataDir
}

func (c *StoreConfig) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", "./numauth-data", "data directory (SQLite database, master key)")
	fs.StringVar(&c.DB, "db", "", "database DSN: postgres://... for PostgreSQL; default SQLite in the data directory")
}

// Validate checks the configuration without touching the disk: an unknown database scheme is an error
// here, before a data directory, key or SQLite file could be made for it.
func (c *StoreConfig) Validate() error {
	if c.DB == "" {
		if c.DataDir == "" {
			return errors.New("--data: empty; give a directory, or a database with --db")
		}
		return nil
	}
	if err := sqlstore.CheckDSN(c.DB); err != nil {
		return fmt.Errorf("--db: %w", err)
	}
	return nil
}

// DSN returns the database to open.
func (c *StoreConfig) DSN() string {
	if c.DB != "" {
		return c.DB
	}
	return filepath.Join(c.DataDir, "numauth.db")
}

// applyEnv sets every flag the command line left alone from NUMAUTH_<FLAG> (dashes become underscores).
func applyEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "NUMAUTH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	return err
}

// openedStore is the database, the master-key sealer and every storage service over them: what every
// command that touches the database shares.
type openedStore struct {
	DB     *sqlstore.DB
	Sealer *aesgcm.Sealer
	numauth.Stores
}

// openStore reads the master key, opens the database, makes sure the key is the database's and its
// schema is this binary's (a new database gets it; an older one must be upgraded with `numauth migrate`
// first), and builds the storage services.
//
// The key is NUMAUTH_MASTER_KEY, or else the key file in the data directory. The database records the
// key's fingerprint when it is first opened, and a key with another fingerprint is refused before anything
// is written (sqlstore.DB.CheckMasterKey). A key file is created only for SQLite, and only when the
// database holds no fingerprint and no sealed secret: on PostgreSQL each replica would make its own.
func openStore(ctx context.Context, c StoreConfig, clock numauth.Clock, migrate bool) (*openedStore, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	postgres := isPostgres(c.DSN())
	mk, err := aesgcm.ReadMasterKey(os.Getenv(aesgcm.EnvVar), c.DataDir)
	generated := false
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist) && postgres:
		return nil, fmt.Errorf("no master key: %s is not set and %s does not exist. With PostgreSQL numauth never "+
			"creates a key itself, since every replica and admin command must use the same one: set %s to the "+
			"installation's key (for a new installation, make one with `openssl rand -hex 32`), or put it in %s",
			aesgcm.EnvVar, mk.Source, aesgcm.EnvVar, mk.Source)
	case errors.Is(err, fs.ErrNotExist):
		// Made in memory only; it is written once the database shows it has no other key.
		if mk.Key, err = aesgcm.NewMasterKey(); err != nil {
			return nil, err
		}
		generated = true
	default:
		return nil, err
	}
	sealer, err := aesgcm.New(mk.Key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", mk.Source, err)
	}
	if c.DB == "" {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	db, err := sqlstore.Open(ctx, c.DSN(), sealer, clock)
	if err != nil {
		return nil, err
	}
	s, err := bindStore(ctx, c, db, sealer, mk, generated, migrate)
	if err != nil {
		db.Close()
		if errors.Is(err, errKeyInstalledElsewhere) {
			return openStore(ctx, c, clock, migrate) // the key file exists now: start over with it
		}
		return nil, err
	}
	return s, nil
}

// errKeyInstalledElsewhere says another process created the key file first.
var errKeyInstalledElsewhere = errors.New("another process installed the master key first")

// bindStore is openStore once the database is open; the caller closes db when it fails.
func bindStore(ctx context.Context, c StoreConfig, db *sqlstore.DB, sealer *aesgcm.Sealer, mk aesgcm.MasterKey,
	generated, migrate bool) (*openedStore, error) {
	// Checked first, so that a wrong key changes nothing: no schema, no key file, no fingerprint.
	bound, err := db.CheckMasterKey(ctx, sealer.Fingerprint(), sealer)
	if err != nil {
		return nil, masterKeyError(mk, generated, err)
	}
	if migrate {
		err = db.Migrate(ctx)
	} else {
		err = db.EnsureSchema(ctx)
	}
	if err != nil {
		return nil, err
	}
	if generated {
		// Written before the database records its fingerprint: a crash in between leaves a key file and
		// an unbound database, which the next start binds, never a database bound to a lost key.
		installed, err := aesgcm.InstallMasterKey(c.DataDir, mk.Key)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(installed, mk.Key) {
			return nil, errKeyInstalledElsewhere
		}
	}
	if !bound {
		if err := db.BindMasterKey(ctx, sealer.Fingerprint()); err != nil {
			return nil, masterKeyError(mk, generated, err)
		}
	}
	stores, err := sqlstore.NewStores(db, sealer.DeriveKey("verification-codes"))
	if err != nil {
		return nil, err
	}
	return &openedStore{DB: db, Sealer: sealer, Stores: stores}, nil
}

// masterKeyError says which key was refused, where it came from and what to do about it.
func masterKeyError(mk aesgcm.MasterKey, generated bool, err error) error {
	if !errors.Is(err, sqlstore.ErrMasterKeyMismatch) {
		return err
	}
	why := strings.TrimPrefix(err.Error(), sqlstore.ErrMasterKeyMismatch.Error()+": ")
	var msg string
	switch {
	case generated:
		msg = fmt.Sprintf("no master key for this database: %s is not set and %s does not exist, but the database "+
			"belongs to a key (%s). numauth does not make a new key for an existing database; nothing was changed. "+
			"Restore %s from this installation's backup, or set %s to its key",
			aesgcm.EnvVar, mk.Source, why, aesgcm.KeyFile, aesgcm.EnvVar)
	case mk.FromEnv:
		msg = fmt.Sprintf("the master key from %s is not this database's (%s); nothing was changed. Set %s to "+
			"the key the database was set up with (the one the other replicas and admin commands use), or unset it "+
			"to use the key file in the data directory", aesgcm.EnvVar, why, aesgcm.EnvVar)
	default:
		msg = fmt.Sprintf("the master key from %s is not this database's (%s); nothing was changed. Check that "+
			"--data and --db name the same installation; restore that file from this installation's backup, or set "+
			"%s to the database's key", mk.Source, why, aesgcm.EnvVar)
	}
	return &keyError{msg: msg, err: err}
}

// keyError is a refused master key: the operator's message, wrapping the store's error.
type keyError struct {
	msg string
	err error
}

func (e *keyError) Error() string { return e.msg }
func (e *keyError) Unwrap() error { return e.err }

// isPostgres says whether dsn names a PostgreSQL database (see sqlstore.Open).
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}
