package ossupload

import (
	"bytes"
	"io"
	"mime/multipart"
	"testing"
)

// FuzzPartDataOffset checks partDataOffset against mime/multipart: wherever it finds the data of a part,
// that is where the part's bytes are in the body. A form it cannot place is refused, never misread.
func FuzzPartDataOffset(f *testing.F) {
	f.Add("key", "42/licence/a.png", "file", []byte("\x89PNG\r\n\x1a\nabc"), "")
	f.Add("policy", "eyJ4Ijoi\r\n--X", "file", []byte("--XX\r\n"), "preamble\r\n--XX-\r\n")
	f.Add("a", "", "file", []byte{}, "\r\n")
	f.Fuzz(func(t *testing.T, name, value, fileName string, file []byte, preamble string) {
		var body bytes.Buffer
		body.WriteString(preamble)
		mw := multipart.NewWriter(&body)
		if mw.SetBoundary("XX") != nil {
			t.Skip()
		}
		if err := mw.WriteField(name, value); err != nil {
			t.Skip()
		}
		fw, err := mw.CreateFormFile("file", fileName)
		if err != nil {
			t.Skip()
		}
		fw.Write(file)
		mw.Close()
		raw := body.Bytes()

		// What mime/multipart reads as the second part, if it reads one.
		mr := multipart.NewReader(bytes.NewReader(raw), "XX")
		if _, err := mr.NextPart(); err != nil {
			return
		}
		p, err := mr.NextPart()
		if err != nil {
			return
		}
		want, err := io.ReadAll(p)
		if err != nil {
			return
		}
		off, ok := partDataOffset(raw, "XX", 2)
		if !ok {
			return
		}
		if off+len(want) > len(raw) || !bytes.Equal(raw[off:off+len(want)], want) {
			t.Fatalf("offset %d in %q, but the part's data is %q", off, raw, want)
		}
	})
}

func TestPartDataOffsetOfWriterForms(t *testing.T) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("key", "42/licence/a.png")
	fw, _ := mw.CreateFormFile("file", "a.png")
	fw.Write([]byte("DATA"))
	mw.Close()
	off, ok := partDataOffset(body.Bytes(), mw.Boundary(), 2)
	if !ok || !bytes.HasPrefix(body.Bytes()[off:], []byte("DATA\r\n--"+mw.Boundary()+"--\r\n")) {
		t.Errorf("offset %d, %v in %q", off, ok, body.Bytes())
	}
	if _, ok := partDataOffset(body.Bytes(), mw.Boundary(), 3); ok {
		t.Error("a third part found")
	}
}
