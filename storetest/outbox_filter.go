package storetest

import (
	"testing"
	"time"

	"github.com/numauth/numauth"
)

func testFindMessagesFilters(t *testing.T, open opener) {
	f := mustCodeFixture(t, open)
	ctx := t.Context()
	first := f.mustSend(t, f.request("13900000001"))
	f.clock.Advance(time.Hour)
	second := f.mustSend(t, f.request("13900000001"))
	ids := func(ms []*numauth.Message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	rows := []struct {
		name   string
		filter numauth.MessageFilter
		want   []string
	}{
		{"ByIDFindsOne", numauth.MessageFilter{AccountID: f.a.ID, ID: first.MessageID}, []string{first.MessageID}},
		{"FromExcludesEarlier", numauth.MessageFilter{AccountID: f.a.ID, From: start.Add(30 * time.Minute)}, []string{second.MessageID}},
		{"ToExcludesLater", numauth.MessageFilter{AccountID: f.a.ID, To: start.Add(30 * time.Minute)}, []string{first.MessageID}},
		{"NewestFirst", numauth.MessageFilter{AccountID: f.a.ID}, []string{second.MessageID, first.MessageID}},
		{"OtherAccountSeesNone", numauth.MessageFilter{AccountID: f.b.ID, ID: first.MessageID}, nil},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			got, err := f.Outbox.FindMessages(ctx, row.filter)
			if err != nil {
				t.Fatal(err)
			}
			if g := ids(got); len(g) != len(row.want) || (len(g) > 0 && (g[0] != row.want[0] || g[len(g)-1] != row.want[len(row.want)-1])) {
				t.Errorf("got %v, want %v", g, row.want)
			}
		})
	}
}
