package main

import "github.com/numauth/numauth/console"

// limitFlag is a flag of the form N/WINDOW (10/1m), or 0 for no limit.
type limitFlag struct{ l *console.Limit }

func (f limitFlag) String() string {
	if f.l == nil {
		return "0"
	}
	return f.l.String()
}

func (f limitFlag) Set(s string) error {
	l, err := console.ParseLimit(s)
	if err != nil {
		return err
	}
	*f.l = l
	return nil
}

func (f limitFlag) Type() string { return "N/WINDOW" }
