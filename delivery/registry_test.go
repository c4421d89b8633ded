package delivery_test

import (
	"context"
	"testing"

	"github.com/numauth/numauth"
	"github.com/numauth/numauth/delivery"
)

// specSource is a routing table held in the test.
type specSource struct {
	rev   int64
	specs []*numauth.ChannelSpec
}

func (s *specSource) Revision() (int64, bool)          { return s.rev, true }
func (s *specSource) Channels() []*numauth.ChannelSpec { return s.specs }

// closingChannel counts how often it is closed.
type closingChannel struct{ closed *int }

func (closingChannel) Name() string { return "inner" }
func (closingChannel) Deliver(context.Context, *numauth.Message) (numauth.DeliveryOutcome, string, error) {
	return numauth.DeliverySent, "ok", nil
}
func (c closingChannel) Close() error { *c.closed++; return nil }

func TestRegistryRebuildsOnlyChangedChannels(t *testing.T) {
	built, closed := 0, 0
	cons := delivery.DefaultConstructors()
	cons[numauth.ChannelHTTP] = func(*numauth.ChannelSpec, numauth.Clock) (numauth.Channel, error) {
		built++
		return closingChannel{closed: &closed}, nil
	}
	src := &specSource{rev: 1, specs: []*numauth.ChannelSpec{
		{Name: "api", Type: numauth.ChannelHTTP, Config: []byte(`{"a":1}`)},
		{Name: "out", Type: numauth.ChannelOutbox, Config: []byte(`{}`)},
		{Name: "smsc", Type: numauth.ChannelSMPP, Config: []byte(`{}`)},
		{Name: "bad-hook", Type: numauth.ChannelWebhook, Config: []byte(`{"url":"ftp://x"}`)},
	}}
	r := delivery.NewRegistry(src, cons, nil, nil)
	ch, ok := r.Channel("api")
	if !ok || ch.Name() != "api" || built != 1 {
		t.Fatalf("api: %v %v, built %d", ch, ok, built)
	}
	for name, want := range map[string]string{
		"smsc":     "channel type smpp is not available in this build",
		"bad-hook": "channel bad-hook (webhook) cannot be built: ",
	} {
		ch, ok := r.Channel(name)
		if !ok {
			t.Fatalf("%s: not built", name)
		}
		out, detail, _ := ch.Deliver(t.Context(), &numauth.Message{})
		if out != numauth.DeliveryFailed || len(detail) < len(want) || detail[:len(want)] != want {
			t.Errorf("%s: %s %q, want failed %q...", name, out, detail, want)
		}
	}

	src.rev = 2 // a change elsewhere in the table: api stays as built
	r.Channel("api")
	if built != 1 || closed != 0 {
		t.Errorf("unchanged spec: built %d, closed %d; want 1, 0", built, closed)
	}
	src.rev, src.specs[0] = 3, &numauth.ChannelSpec{Name: "api", Type: numauth.ChannelHTTP, Config: []byte(`{"a":2}`)}
	r.Sync()
	if built != 2 || closed != 1 {
		t.Errorf("changed spec: built %d, closed %d; want 2, 1", built, closed)
	}
	src.rev, src.specs = 4, src.specs[1:]
	if _, ok := r.Channel("api"); ok || closed != 2 {
		t.Errorf("deleted spec: found %v, closed %d; want false, 2", ok, closed)
	}
}

func TestDefaultConstructorsKannel(t *testing.T) {
	var asked string
	build := delivery.DefaultConstructors(delivery.WithKannelDLR("http://127.0.0.1:8080", func(channel string) string {
		asked = channel
		return "secret"
	}))[numauth.ChannelKannel]
	spec := &numauth.ChannelSpec{Name: "kan", Type: numauth.ChannelKannel,
		Config: []byte(`{"sendsms_url":"http://127.0.0.1:13013/cgi-bin/sendsms","username":"u","password":"p"}`)}
	if _, err := build(spec, nil); err != nil || asked != "kan" {
		t.Fatalf("build = %v, secret asked for %q; want a channel and kan's secret", err, asked)
	}
	spec.Config = []byte(`{"sendsms_url":"http://127.0.0.1:13013/cgi-bin/sendsms","username":"u","password":"p","dlr":1}`)
	if _, err := build(spec, nil); err == nil {
		t.Error("unknown key dlr: want an error")
	}
}
