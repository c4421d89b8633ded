package alibaba

import "testing"

// TestErrorTables checks every key of every table the gateway reads, the gateway's own, each product's
// and each action's: a misspelt kind or reason would otherwise fall back to a generic code unnoticed.
func TestErrorTables(t *testing.T) {
	tables := map[string]errorTable{"gateway": gatewayErrors}
	for _, products := range NewServer(Config{}).versions {
		for _, p := range products {
			tables[p.name] = p.errors
			for _, a := range p.actions {
				if a.errors != nil {
					tables[p.name+"/"+a.name] = a.errors
				}
			}
		}
	}
	if len(tables) < 5 {
		t.Fatalf("found %d tables, want the gateway's, each product's and the actions'", len(tables))
	}
	for name, table := range tables {
		if err := table.Check(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
