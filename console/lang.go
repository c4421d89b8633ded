package console

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// lang is a page language: zh (Simplified Chinese) or en.
type lang string

const (
	zh lang = "zh"
	en lang = "en"
)

// langCookie remembers a language chosen with ?lang=.
const langCookie = "numauth_lang"

// parseLang returns the language s names, or "" for anything else.
func parseLang(s string) lang {
	switch lang(s) {
	case zh, en:
		return lang(s)
	}
	return ""
}

// chooseLang picks the page language: ?lang=, else the cookie an earlier ?lang= set, else Accept-Language.
func chooseLang(r *http.Request) (l lang, chosen bool) {
	if l := parseLang(r.URL.Query().Get("lang")); l != "" {
		return l, true
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l := parseLang(c.Value); l != "" {
			return l, false
		}
	}
	return acceptLang(r.Header.Get("Accept-Language")), false
}

// acceptLang returns the first of zh and en in the visitor's order of preference, en when neither is
// listed: someone who reads French first and Chinese second gets Chinese, not the default.
func acceptLang(header string) lang {
	type pref struct {
		tag string
		q   float64
	}
	var prefs []pref
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if tag != "" && q > 0 {
			prefs = append(prefs, pref{strings.ToLower(tag), q})
		}
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	for _, p := range prefs {
		switch {
		case p.tag == "zh" || strings.HasPrefix(p.tag, "zh-"):
			return zh
		case p.tag == "en" || strings.HasPrefix(p.tag, "en-"):
			return en
		}
	}
	return en
}

// Tag is the page's BCP 47 tag, for <html lang>.
func (l lang) Tag() string {
	if l == zh {
		return "zh-CN"
	}
	return "en"
}

// Name is the language's name in itself, the text of the link that switches to it.
func (l lang) Name() string {
	if l == zh {
		return "中文"
	}
	return "English"
}

// Other is the language the switch link offers.
func (l lang) Other() lang {
	if l == zh {
		return en
	}
	return zh
}

// locale is the SMS text's locale.
func (l lang) locale() string {
	if l == zh {
		return "zh_CN"
	}
	return "en_US"
}

// T returns message key in l, formatted with args (messages use explicit indexes, %[1]s, because the two
// languages order them differently).
func (l lang) T(key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return "!" + key // TestMessages keeps templates from naming a missing key
	}
	s := m.en
	if l == zh {
		s = m.zh
	}
	if len(args) > 0 {
		s = fmt.Sprintf(s, args...)
	}
	return s
}

// messages are every string the pages show, in both languages side by side so that neither falls behind.
var messages = map[string]struct{ zh, en string }{
	"site":     {"号码授权", "Phone number consent"},
	"sms_app":  {"号码授权", "numauth"},
	"seconds":  {"秒", "s"},
	"withdraw": {"管理或撤回授权", "Manage or withdraw your consent"},

	// Error pages: titles, then messages.
	"title_link":      {"链接无效", "This link does not work"},
	"title_expired":   {"链接已过期", "This link has expired"},
	"title_forbidden": {"操作未执行", "Nothing was done"},
	"title_error":     {"出错了", "Something went wrong"},
	"link_invalid":    {"此链接无效或已被篡改。请向发送链接的企业索取新的链接。", "This link is not valid. Ask the company that sent it to you for a new one."},
	"link_expired":    {"此链接已过期，无法再用于授权。如仍需授权，请向发送链接的企业索取新的链接。", "This link has expired and can no longer be used. If you still want to give consent, ask the company that sent it for a new link."},
	"forbidden":       {"此表单已过期，或并非从本网站提交，因此没有执行任何操作。请返回、刷新页面后重试。", "This form has expired or was not sent from this site, so nothing was done. Go back, reload the page and try again."},
	"bad_request":     {"请求无效。", "That request is not valid."},
	"not_found":       {"找不到此页面。", "There is no page here."},
	"internal":        {"服务暂时出现问题，请稍后再试。", "Something went wrong on our side. Please try again later."},

	// The consent page.
	"consent_title":    {"授权请求", "Consent request"},
	"consent_lead":     {"%[1]s 请求您授权其联系以下手机号码。", "%[1]s asks for your consent to contact this phone number."},
	"label_company":    {"申请方", "Company"},
	"label_purpose":    {"用途", "Purpose"},
	"label_phone":      {"手机号码", "Phone number"},
	"label_end":        {"授权截止", "Until"},
	"label_code":       {"验证码", "Verification code"},
	"explain_end":      {"如果您同意，%[1]s 可以在 %[3]s（含当日）之前为“%[2]s”联系此号码，除非您提前撤回授权。", "If you grant consent, %[1]s may contact this number for “%[2]s” until the end of %[3]s, unless you withdraw it sooner."},
	"explain_open":     {"如果您同意，%[1]s 可以为“%[2]s”联系此号码，直到您撤回授权为止。", "If you grant consent, %[1]s may contact this number for “%[2]s” until you withdraw it."},
	"explain_decline":  {"如果您拒绝，%[1]s 不会获得授权。", "If you decline, %[1]s gets no consent."},
	"explain_withdraw": {"您可以随时撤回授权：", "You can withdraw consent at any time:"},
	"explain_code":     {"为确认您是此号码的机主，我们会向 %[1]s 发送一条验证码短信。同意和拒绝都需要输入验证码。", "To confirm that this is your number, we will text a code to %[1]s. You need the code both to grant and to decline."},
	"send_code":        {"发送验证码", "Send code"},
	"resend_code":      {"重新发送验证码", "Send a new code"},
	"resend_wait":      {"重新发送（{n} 秒）", "Send a new code ({n} s)"},
	"code_sent":        {"验证码已发送至 %[1]s，%[2]d 分钟内有效。", "We sent a code to %[1]s. It is valid for %[2]d minutes."},
	"grant":            {"同意授权", "Grant"},
	"decline":          {"拒绝", "Decline"},
	"code_missing":     {"请输入我们发送给您的验证码。", "Enter the code we sent you."},
	"code_wrong":       {"验证码不正确或已过期。", "That code is wrong or has expired."},
	"code_cancelled":   {"错误次数过多，此验证码已失效。请重新获取验证码。", "Too many wrong attempts: that code no longer works. Request a new code."},
	"wait":             {"请求过于频繁，请在 %[1]d 秒后重试。", "Please wait %[1]d seconds before you request another code."},
	"send_denied":      {"无法向此号码发送验证码。", "We cannot send a code to this number."},
	"already_decided":  {"此请求此前已经处理过，无法再次更改。", "This request was already answered and cannot be changed."},

	// The outcome of a request.
	"outcome_granted_fresh":  {"您已同意授权", "You granted consent"},
	"outcome_declined_fresh": {"您已拒绝授权", "You declined"},
	"outcome_granted":        {"此请求已获授权", "This request was granted"},
	"outcome_declined":       {"此请求已被拒绝", "This request was declined"},
	"outcome_expired":        {"此请求已过期", "This request has expired"},
	"outcome_revoked":        {"此授权已撤回", "This consent was withdrawn"},
	"granted_end":            {"%[1]s 可以在 %[3]s（含当日）之前为“%[2]s”联系此号码，除非您提前撤回授权。", "%[1]s may contact this number for “%[2]s” until the end of %[3]s, unless you withdraw consent sooner."},
	"granted_open":           {"%[1]s 可以为“%[2]s”联系此号码，直到您撤回授权为止。", "%[1]s may contact this number for “%[2]s” until you withdraw consent."},
	"declined_note":          {"%[1]s 没有获得联系此号码的授权。", "%[1]s has no consent to contact this number."},
	"expired_note":           {"%[1]s 没有获得联系此号码的授权。如仍需授权，请向其索取新的链接。", "%[1]s has no consent to contact this number. If you still want to give it, ask them for a new link."},
	"revoked_note":           {"%[1]s 不再获准联系此号码。", "%[1]s may no longer contact this number."},

	// The withdrawal pages.
	"withdraw_title":  {"撤回授权", "Withdraw consent"},
	"withdraw_lead":   {"输入您的手机号码。如果有企业获得了联系此号码的授权，我们会向它发送一条验证码短信；验证后，您可以查看并撤回这些授权。", "Enter your phone number. If any company has your consent to contact it, we will text it a code; with the code you can see and withdraw that consent."},
	"phone_hint":      {"中国大陆号码可直接输入，其他地区请以 + 和国家代码开头。", "Mainland China numbers as they are; others starting with + and the country code."},
	"phone_invalid":   {"请输入有效的手机号码。", "Enter a valid mobile phone number."},
	"continue":        {"继续", "Continue"},
	"withdraw_sent":   {"如果号码 %[1]s 有仍然有效的授权，验证码正在发送中。", "If %[1]s has consent in force, a code is on its way to it."},
	"verify":          {"验证", "Verify"},
	"other_number":    {"使用其他号码", "Use a different number"},
	"grants_title":    {"您的授权", "Your consent"},
	"grants_lead":     {"以下企业获得了联系 %[1]s 的授权。", "These companies have your consent to contact %[1]s."},
	"grants_none":     {"目前没有企业获得联系 %[1]s 的授权。", "No company has your consent to contact %[1]s at the moment."},
	"label_granted":   {"授权日期", "Granted on"},
	"label_ends":      {"截止", "Ends"},
	"until_withdrawn": {"您撤回时", "When you withdraw it"},
	"revoke":          {"撤回授权", "Withdraw"},
	"revoked":         {"授权已撤回。", "Consent withdrawn."},
	"revoke_gone":     {"此授权已不再有效。", "That consent is no longer in force."},
	"sign_out":        {"退出", "Sign out"},
	"signed_out":      {"您已退出。", "You have signed out."},
	"session_expired": {"您的验证已过期，请重新验证您的号码。", "Your session has ended. Verify your number again."},
}
