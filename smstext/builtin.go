package smstext

// forms is one built-in text in the plural forms its language needs for {minutes}, as CLDR names them.
// An empty form falls back to other.
type forms struct {
	other, one, two, few, many string
}

// pick returns the form for a number of minutes.
func (f forms) pick(cat plural) string {
	var s string
	switch cat {
	case pluralOne:
		s = f.one
	case pluralTwo:
		s = f.two
	case pluralFew:
		s = f.few
	case pluralMany:
		s = f.many
	}
	if s == "" {
		return f.other
	}
	return s
}

// plural is a CLDR plural category.
type plural int

const (
	pluralOther plural = iota
	pluralOne
	pluralTwo
	pluralFew
	pluralMany
)

// pluralOf returns the CLDR cardinal plural category of the integer n in a language, for the languages
// whose built-in texts inflect a noun after {minutes}. Chinese, Japanese, Korean, Thai, Vietnamese,
// Indonesian and Malay do not inflect; the Portuguese text avoids the question with "min".
func pluralOf(lang string, n int) plural {
	if n < 0 {
		n = -n
	}
	switch lang {
	case "en", "es":
		if n == 1 {
			return pluralOne
		}
	case "ar":
		switch m := n % 100; {
		case n == 1:
			return pluralOne
		case n == 2:
			return pluralTwo
		case m >= 3 && m <= 10:
			return pluralFew
		case m >= 11 && m <= 99:
			return pluralMany
		}
	}
	return pluralOther
}

// builtins are the texts numauth sends when an account has not overridden them. The SMS texts are short
// enough that a 6-digit code, a 10-character app name and a 2-digit number of minutes fit one SMS: 160
// characters where the text is GSM-7 (English, Indonesian, Malay), 70 where the script or its accents need
// UCS-2. The Chinese and Japanese texts lead with the app name in 【】, as carriers there expect a
// signature. The voice texts say the code twice; {code} in them is spoken character by character (see
// spokenCode).
var builtins = map[string]map[Kind]forms{
	"zh_CN": {
		KindSMS:   {other: "【{app}】您的验证码是{code}，{minutes}分钟内有效，请勿泄露给他人。"},
		KindVoice: {other: "您的验证码是{code}。重复一遍，您的验证码是{code}。"},
	},
	"zh_TW": {
		KindSMS:   {other: "【{app}】您的驗證碼為{code}，{minutes}分鐘內有效，請勿提供給他人。"},
		KindVoice: {other: "您的驗證碼是{code}。再說一次，您的驗證碼是{code}。"},
	},
	"zh_HK": {
		KindSMS:   {other: "【{app}】您的驗證碼為{code}，有效時間為{minutes}分鐘，請勿向他人透露。"},
		KindVoice: {other: "您的驗證碼是{code}。重複一次，您的驗證碼是{code}。"},
	},
	"en_US": {
		KindSMS: {
			other: "{code} is your verification code for {app}. It expires in {minutes} minutes. Do not share it.",
			one:   "{code} is your verification code for {app}. It expires in {minutes} minute. Do not share it.",
		},
		KindVoice: {other: "Your verification code is {code}. Again: {code}."},
	},
	"en_GB": {
		KindSMS: {
			other: "{code} is your {app} verification code. It expires in {minutes} minutes. Please do not share it with anyone.",
			one:   "{code} is your {app} verification code. It expires in {minutes} minute. Please do not share it with anyone.",
		},
		KindVoice: {other: "Your verification code is {code}. I'll repeat that: {code}."},
	},
	"id_ID": {
		KindSMS:   {other: "{code} adalah kode verifikasi {app} Anda. Berlaku selama {minutes} menit. Jangan berikan kode ini kepada siapa pun."},
		KindVoice: {other: "Kode verifikasi Anda adalah {code}. Sekali lagi, kode Anda adalah {code}."},
	},
	"ms_MY": {
		KindSMS:   {other: "{code} ialah kod pengesahan {app} anda. Sah selama {minutes} minit. Jangan kongsi kod ini dengan sesiapa."},
		KindVoice: {other: "Kod pengesahan anda ialah {code}. Sekali lagi, kod anda ialah {code}."},
	},
	"th_TH": {
		KindSMS:   {other: "{code} คือรหัสยืนยัน {app} ของคุณ ใช้ได้ {minutes} นาที ห้ามบอกผู้อื่น"},
		KindVoice: {other: "รหัสยืนยันของคุณคือ {code} ขอทวนอีกครั้ง รหัสของคุณคือ {code}"},
	},
	"vi_VN": {
		KindSMS:   {other: "Mã xác thực {app}: {code}. Hiệu lực {minutes} phút. Không chia sẻ mã."},
		KindVoice: {other: "Mã xác thực của bạn là {code}. Xin nhắc lại, mã của bạn là {code}."},
	},
	"ja_JP": {
		KindSMS:   {other: "【{app}】認証コードは{code}です。有効期限は{minutes}分です。他人に教えないでください。"},
		KindVoice: {other: "認証コードは、{code}です。もう一度繰り返します。{code}です。"},
	},
	"ko_KR": {
		KindSMS:   {other: "[{app}] 인증번호는 {code}입니다. {minutes}분간 유효합니다. 타인에게 알려 주지 마세요."},
		KindVoice: {other: "인증번호는 {code}입니다. 한 번 더 말씀드립니다. 인증번호는 {code}입니다."},
	},
	"es_ES": {
		KindSMS: {
			other: "Código de {app}: {code}. Caduca en {minutes} minutos. No lo compartas.",
			one:   "Código de {app}: {code}. Caduca en {minutes} minuto. No lo compartas.",
		},
		KindVoice: {other: "Tu código de verificación es {code}. Repito: {code}."},
	},
	"pt_BR": {
		KindSMS:   {other: "Seu código {app} é {code}. Válido por {minutes} min. Não compartilhe."},
		KindVoice: {other: "Seu código de verificação é {code}. Repetindo: {code}."},
	},
	"ar_SA": {
		KindSMS: {
			other: "رمز التحقق لـ{app}: {code}. صالح لمدة {minutes} دقيقة. لا تشاركه مع أحد.",
			one:   "رمز التحقق لـ{app}: {code}. صالح لمدة دقيقة. لا تشاركه مع أحد.",
			two:   "رمز التحقق لـ{app}: {code}. صالح لمدة دقيقتين. لا تشاركه مع أحد.",
			few:   "رمز التحقق لـ{app}: {code}. صالح لمدة {minutes} دقائق. لا تشاركه مع أحد.",
		},
		KindVoice: {other: "رمز التحقق الخاص بك هو {code}. أكرر، رمز التحقق هو {code}."},
	},
}

// codeSeparator is what a voice text puts between the characters of a code, so that a speech engine reads
// them one by one: the enumeration comma in Chinese and Japanese, the Arabic comma, a space in Thai (which
// does not use commas), a comma elsewhere.
var codeSeparator = map[string]string{
	"zh": "、",
	"ja": "、",
	"ar": "، ",
	"th": " ",
}
