package storeutil

import (
	"context"
	"slices"

	"github.com/heraldhq/herald"
)

// SoleOwnedChannels returns the channels accountID owns with no other
// admin: erasing the account deletes them, so the person confirms them
// first. Channels it owns with other admins pass to the most senior of them.
func SoleOwnedChannels(ctx context.Context, s herald.Store, accountID string) ([]*herald.Channel, error) {
	managed, err := s.ListManagedChannels(ctx, accountID)
	if err != nil {
		return nil, err
	}
	var out []*herald.Channel
	for _, ch := range managed {
		if ch.Viewer.Role == nil || *ch.Viewer.Role != herald.RoleOwner {
			continue
		}
		admins, err := s.ListAdmins(ctx, accountID, ch.ID)
		if err != nil {
			return nil, err
		}
		if len(admins) <= 1 {
			out = append(out, ch)
		}
	}
	return out, nil
}

// ErrConfirmChannels refuses an erasure whose confirmation does not list
// exactly the channels it would delete.
var ErrConfirmChannels = herald.KindErrorf(herald.ECONFLICT, "confirm-channels",
	"Deleting this account deletes the channels it owns alone: list them to confirm, or transfer them first.")

// EraseAccount erases an account: the channels it owns alone are deleted
// (only if confirm lists exactly those, else ErrConfirmChannels and nothing
// is erased), the channels it owns with other admins pass to the most senior
// admin, then DeleteAccount erases the rest in one transaction, dropping
// every count its follows, reactions and votes were in. Each step is
// idempotent: a failure part way leaves an account a second attempt
// finishes erasing.
func EraseAccount(ctx context.Context, s herald.Store, accountID string, confirm []string) error {
	alone, err := SoleOwnedChannels(ctx, s, accountID)
	if err != nil {
		return err
	}
	ids := make([]string, len(alone))
	for i, ch := range alone {
		ids[i] = ch.ID
	}
	want, got := slices.Clone(ids), slices.Clone(confirm)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, slices.Compact(got)) {
		return ErrConfirmChannels
	}
	for _, id := range ids {
		if err := s.DeleteChannel(ctx, accountID, id); err != nil && herald.ErrorCode(err) != herald.ENOTFOUND {
			return err
		}
	}
	managed, err := s.ListManagedChannels(ctx, accountID)
	if err != nil {
		return err
	}
	for _, ch := range managed {
		if ch.Viewer.Role == nil || *ch.Viewer.Role != herald.RoleOwner {
			continue
		}
		admins, err := s.ListAdmins(ctx, accountID, ch.ID)
		if err != nil {
			return err
		}
		for _, a := range admins { // owner first, then by seniority
			if a.Account.ID != accountID {
				if err := s.TransferOwnership(ctx, accountID, ch.ID, a.Account.ID); err != nil {
					return err
				}
				break
			}
		}
	}
	return s.DeleteAccount(ctx, accountID)
}
