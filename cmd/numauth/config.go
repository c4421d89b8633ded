package main

import (
	"context"
	"errors"
	"fmt"
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

// openedStore is the database and the master-key sealer every command shares.
type openedStore struct {
	DB     *sqlstore.DB
	Sealer *aesgcm.Sealer
}

// openStore loads the master key (NUMAUTH_MASTER_KEY, or the key file in the data directory, created on
// first use), opens the database and makes sure its schema is this binary's: a new database gets it, an
// older one must be upgraded with `numauth migrate` first.
func openStore(ctx context.Context, c StoreConfig, clock numauth.Clock, migrate bool) (*openedStore, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.DB == "" {
		if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	key, err := aesgcm.LoadMasterKey(os.Getenv("NUMAUTH_MASTER_KEY"), c.DataDir)
	if err != nil {
		return nil, err
	}
	sealer, err := aesgcm.New(key)
	if err != nil {
		return nil, err
	}
	db, err := sqlstore.Open(ctx, c.DSN(), sealer, clock)
	if err != nil {
		return nil, err
	}
	if migrate {
		err = db.Migrate(ctx)
	} else {
		err = db.EnsureSchema(ctx)
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return &openedStore{DB: db, Sealer: sealer}, nil
}
