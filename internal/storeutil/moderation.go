package storeutil

import (
	"context"

	"github.com/heraldhq/herald"
)

// SuspensionReader is what Withheld reads of a store.
type SuspensionReader interface {
	ChannelSuspension(ctx context.Context, channelID string) (*herald.Suspension, error)
	FindChannel(ctx context.Context, viewerID, channelID string) (*herald.Channel, error)
}

// Withheld answers whether a suspended channel's updates are withheld from
// the viewer (anyone but its admins); it costs one primary-key read for a
// channel not suspended. A channel not found is not withheld (the read that
// follows answers for it), unless it is suspended: then ENOTFOUND.
func Withheld(ctx context.Context, s SuspensionReader, viewerID, channelID string) (bool, error) {
	susp, err := s.ChannelSuspension(ctx, channelID)
	if err != nil || susp == nil {
		if herald.ErrorCode(err) == herald.ENOTFOUND {
			err = nil
		}
		return false, err
	}
	ch, err := s.FindChannel(ctx, viewerID, channelID)
	if err != nil {
		return false, err
	}
	return ch.Viewer.Role == nil, nil
}
