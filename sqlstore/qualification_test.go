package sqlstore

import (
	"bytes"
	"testing"

	"github.com/numauth/numauth"
)

func TestQualificationPersonalNumbersAreStoredSealed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, newDSN func(testing.TB) string) {
		db := mustOpenMigrated(t, newDSN, numauth.SystemClock{})
		a, _, err := NewAccountService(db).CreateAccount(t.Context(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		q := &numauth.Qualification{AccountID: a.ID, Name: "资质", CompanyName: "Acme", CompanyType: numauth.CompanyTypeCompany,
			LegalPerson:  numauth.QualificationPerson{Name: "李华", IDCardType: numauth.IDCardIdentityCard, IDCardNo: "11010519491231002X"},
			Admin:        numauth.QualificationPerson{Name: "王五", IDCardType: numauth.IDCardPassport, IDCardNo: "E12345678"},
			AdminPhoneNo: "+8613800001234"}
		if err := NewQualificationService(db).SubmitQualification(t.Context(), q); err != nil {
			t.Fatal(err)
		}
		var legal, admin, phone []byte
		if err := db.queryRow(t.Context(), `SELECT legal_id_no, admin_id_no, admin_phone FROM sms_qualifications WHERE id = ?`,
			q.ID).Scan(&legal, &admin, &phone); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			stored []byte
			clear  string
		}{{legal, q.LegalPerson.IDCardNo}, {admin, q.Admin.IDCardNo}, {phone, q.AdminPhoneNo}} {
			if bytes.Contains(c.stored, []byte(c.clear)) {
				t.Errorf("stored column holds %q in clear", c.clear)
			}
			if opened, err := testSealer.Open(c.stored); err != nil || string(opened) != c.clear {
				t.Errorf("opening the stored column: got %q, %v, want %q", opened, err, c.clear)
			}
		}
	})
}
