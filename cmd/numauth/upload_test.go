package main

import (
	"encoding/json"
	"strconv"
	"testing"
)

// TestStorageQuotaCommand sets an account's quota with the admin CLI and sees the running server refuse
// the upload past it.
func TestStorageQuotaCommand(t *testing.T) {
	s := mustRunMain(t, "")
	a := s.mustCreateAccount(t, "acme")
	got := s.admin(t, "storage-quota", "get", "--account", a.ID)
	if got["Bytes"] != json.Number("209715200") || got["Default"] != true || got["UsedBytes"] != json.Number("0") {
		t.Errorf("storage-quota get on a new account: %v", got)
	}
	file := pngFile(t)
	quota := strconv.Itoa(len(file) * 3 / 2)
	got = s.admin(t, "storage-quota", "set", "--account", a.ID, "--bytes", quota)
	if got["Bytes"] != json.Number(quota) || got["Default"] != false {
		t.Errorf("storage-quota set: %v", got)
	}
	g := s.qualificationUpload(t, a)
	if status := formUpload(t, g, g.StartPath+"one.png", "one.png", file); status != 200 {
		t.Fatalf("upload within the quota: %d", status)
	}
	if status := formUpload(t, g, g.StartPath+"two.png", "two.png", file); status != 403 {
		t.Errorf("upload past the quota: %d, want 403", status)
	}
	if status := formUpload(t, g, g.StartPath+"one.png", "one.png", file); status != 409 {
		t.Errorf("second upload to a key: %d, want 409", status)
	}
	got = s.admin(t, "storage-quota", "get", "--account", a.ID)
	if got["UsedBytes"] != json.Number(strconv.Itoa(len(file))) {
		t.Errorf("storage-quota get after one upload: %v", got)
	}
	if out, err := s.cli(t, "admin", "storage-quota", "set", "--account", "1234567890123456", "--bytes", "1"); err == nil {
		t.Errorf("quota of an unknown account: %s", out)
	}
}
