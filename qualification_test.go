package numauth_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/numauth/numauth"
)

func TestParseLicensePics(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   []numauth.LicensePic
		reason string
	}{
		{"EmptyTextIsNone", "", nil, ""},
		{"EmptyArrayIsNone", "[]", []numauth.LicensePic{}, ""},
		{"PicturesAreKeptInOrder", `[{"LicensePic":"1/a.PNG","Type":"businessLicense"},{"LicensePic":"1/b.jpeg","Type":"otherLicense"}]`,
			[]numauth.LicensePic{{Key: "1/a.PNG", Type: numauth.LicenseBusiness}, {Key: "1/b.jpeg", Type: numauth.LicenseOther}}, ""},
		{"TextNotJSONIsMalformed", "1/a.png", nil, numauth.ReasonMalformed},
		{"ArrayOfStringsIsMalformed", `["1/a.png"]`, nil, numauth.ReasonMalformed},
		{"TooManyIsMalformed", "[" + strings.Repeat(`{"LicensePic":"1/a.png","Type":"businessLicense"},`, 20) + `{"LicensePic":"1/a.png","Type":"businessLicense"}]`, nil, numauth.ReasonMalformed},
		{"UnknownTypeIsLicenseType", `[{"LicensePic":"1/a.png","Type":"driverLicense"}]`, nil, numauth.ReasonLicenseType},
		{"NoFileIsMissing", `[{"Type":"businessLicense"}]`, nil, numauth.ReasonMissing},
		{"PDFIsFileType", `[{"LicensePic":"1/a.pdf","Type":"businessLicense"}]`, nil, numauth.ReasonFileType},
		{"NoExtensionIsFileType", `[{"LicensePic":"1/a","Type":"businessLicense"}]`, nil, numauth.ReasonFileType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := numauth.ParseLicensePics(tt.in)
			checkValidation(t, err, tt.reason, "BusinessLicensePics")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseLicensePics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseOtherFiles(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   []string
		reason string
	}{
		{"EmptyTextIsNone", "", nil, ""},
		{"PicturesAndPDFAreKept", `[{"LicensePic":"1/a.gif"},{"LicensePic":"1/b.pdf"}]`, []string{"1/a.gif", "1/b.pdf"}, ""},
		{"EntryWithoutFileIsMalformed", `[{}]`, nil, numauth.ReasonMalformed},
		{"ObjectIsMalformed", `{"LicensePic":"1/a.gif"}`, nil, numauth.ReasonMalformed},
		{"ProgramIsFileType", `[{"LicensePic":"1/a.exe"}]`, nil, numauth.ReasonFileType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := numauth.ParseOtherFiles(tt.in)
			checkValidation(t, err, tt.reason, "OtherFiles")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseOtherFiles (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckQualificationRemark(t *testing.T) {
	checkValidation(t, numauth.CheckQualificationRemark(strings.Repeat("备", 500)), "", "Remark")
	checkValidation(t, numauth.CheckQualificationRemark(strings.Repeat("备", 501)), numauth.ReasonMalformed, "Remark")
	checkValidation(t, numauth.CheckQualificationRemark("\xff"), numauth.ReasonMalformed, "Remark")
}
