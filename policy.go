package numauth

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Policy is a RAM policy document in Alibaba Cloud's format:
//
//	{"Version":"1","Statement":[{"Effect":"Allow","Action":["dypns:*"],"Resource":"*"}]}
//
// An explicit Deny wins over any Allow; with no matching Allow the answer is an implicit deny.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one rule of a policy. Action and Resource accept a string or a list in the document.
type Statement struct {
	Effect   string      `json:"Effect"`
	Action   stringOrSet `json:"Action"`
	Resource stringOrSet `json:"Resource"`
}

// stringOrSet is a JSON string or a list of strings.
type stringOrSet []string

func (s *stringOrSet) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = stringOrSet{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings")
	}
	*s = many
	return nil
}

func (s stringOrSet) MarshalJSON() ([]byte, error) {
	if len(s) == 1 {
		return json.Marshal(s[0])
	}
	return json.Marshal([]string(s))
}

// ParsePolicy parses and checks a policy document. Condition blocks are refused rather than ignored: a
// policy that silently grants more than its author wrote is worse than one that does not load.
func ParsePolicy(doc []byte) (*Policy, error) {
	var raw struct {
		Statement []map[string]json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		return nil, Malformed("policy", "policy document: %v", err)
	}
	for i, st := range raw.Statement {
		for k := range st {
			switch k {
			case "Effect", "Action", "Resource":
			default:
				return nil, Malformed("policy", "statement %d: %s is not supported", i, k)
			}
		}
	}
	var p Policy
	if err := json.Unmarshal(doc, &p); err != nil {
		return nil, Malformed("policy", "policy document: %v", err)
	}
	if p.Version == "" {
		p.Version = "1"
	}
	if len(p.Statement) == 0 {
		return nil, Malformed("policy", "policy document has no Statement")
	}
	for i, st := range p.Statement {
		if !strings.EqualFold(st.Effect, "Allow") && !strings.EqualFold(st.Effect, "Deny") {
			return nil, Malformed("policy", "statement %d: Effect must be Allow or Deny", i)
		}
		if len(st.Action) == 0 {
			return nil, Malformed("policy", "statement %d: Action is required", i)
		}
		if len(st.Resource) == 0 {
			return nil, Malformed("policy", "statement %d: Resource is required", i)
		}
	}
	return &p, nil
}

// Evaluate decides action on resource: nil when allowed, EDENIED with ReasonExplicitDeny or
// ReasonImplicitDeny otherwise. Actions match case-insensitively, as RAM does; resources match exactly.
// Both accept the wildcards * and ?.
func (p *Policy) Evaluate(action, resource string) error {
	allowed := false
	if p != nil {
		for _, st := range p.Statement {
			if !matchAny(st.Action, strings.ToLower(action), true) || !matchAny(st.Resource, resource, false) {
				continue
			}
			if strings.EqualFold(st.Effect, "Deny") {
				return &Error{Kind: EDENIED, Reason: ReasonExplicitDeny, Detail: action, Internal: "explicit deny of " + action}
			}
			allowed = true
		}
	}
	if !allowed {
		return &Error{Kind: EDENIED, Reason: ReasonImplicitDeny, Detail: action, Internal: "no statement allows " + action}
	}
	return nil
}

func matchAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether s matches pattern, where * matches any run of bytes and ? any one byte.
// It runs in O(len(pattern)*len(s)) at worst, with no recursion.
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
