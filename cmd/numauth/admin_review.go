package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/numauth/numauth"
)

// reviewRow is one row of `admin review list`.
type reviewRow struct {
	Kind      string
	Id        int64
	AccountId int64
	Name      string
	CreatedAt string
}

// reviewKinds are what operators review.
var reviewKinds = []string{numauth.ReviewKindLetter, numauth.ReviewKindQualification, numauth.ReviewKindSign, numauth.ReviewKindTemplate}

// reviewCommand is the operators' queue: what waits for review, and their decisions.
func (a *admin) reviewCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "review", Short: "Review SMS compliance paperwork (authorization letters, qualifications, signatures, templates)"}
	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List what waits for review, oldest first (-o json: a JSON array)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return list(a, cmd, func(ctx context.Context, s services) ([]reviewRow, error) {
				var pending []*numauth.PendingReview
				for _, find := range []func(context.Context) ([]*numauth.PendingReview, error){
					s.Letters.FindPendingReviews, s.Qualifications.FindPendingQualifications,
					s.Signs.FindPendingSigns, s.Signs.FindPendingSmsTemplates,
				} {
					items, err := find(ctx)
					if err != nil {
						return nil, err
					}
					pending = append(pending, items...)
				}
				// One queue, oldest first whatever the kind.
				slices.SortStableFunc(pending, func(x, y *numauth.PendingReview) int { return x.CreatedAt.Compare(y.CreatedAt) })
				rows := make([]reviewRow, 0, len(pending))
				for _, p := range pending {
					rows = append(rows, reviewRow{Kind: p.Kind, Id: p.ID, AccountId: p.AccountID, Name: p.Name,
						CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339)})
				}
				return rows, nil
			}, "CREATED\tKIND\tID\tACCOUNT\tNAME", func(r reviewRow) string {
				return strings.Join([]string{r.CreatedAt, r.Kind, strconv.FormatInt(r.Id, 10), strconv.FormatInt(r.AccountId, 10), r.Name}, "\t")
			})
		},
	}
	decide := func(use string, approve bool) *cobra.Command {
		var kind, reason, by string
		var id int64
		c := &cobra.Command{
			Use:   use,
			Short: use + " an item; the decision is recorded with who and when",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if !slices.Contains(reviewKinds, kind) {
					return fmt.Errorf("--kind %q: want %s", kind, strings.Join(reviewKinds, ", "))
				}
				if by == "" {
					by = os.Getenv("USER")
				}
				return a.run(cmd, func(ctx context.Context, s services) ([]field, error) {
					r := numauth.Review{Kind: kind, ID: id, Approve: approve, Reason: reason, By: by}
					review := map[string]func(context.Context, numauth.Review) error{
						numauth.ReviewKindLetter:        s.Letters.ReviewAuthorizationLetter,
						numauth.ReviewKindQualification: s.Qualifications.ReviewQualification,
						numauth.ReviewKindSign:          s.Signs.ReviewSign,
						numauth.ReviewKindTemplate:      s.Signs.ReviewSmsTemplate,
					}[kind]
					if err := review(ctx, r); err != nil {
						return nil, err
					}
					return []field{{"Kind", kind}, {"Id", id}, {"Approved", approve}, {"By", by}}, nil
				})
			},
		}
		c.Flags().StringVar(&kind, "kind", "", "what to review: "+strings.Join(reviewKinds, ", "))
		c.Flags().Int64Var(&id, "id", 0, "the item's id, as review list shows it (a template's is its code without SMS_)")
		c.Flags().StringVar(&reason, "reason", "", "why (shown to the applicant)")
		c.Flags().StringVar(&by, "by", "", "who decides (default: $USER)")
		requireFlags(c, "kind", "id")
		return c
	}
	cmd.AddCommand(listCmd, decide("approve", true), decide("reject", false))
	return cmd
}
