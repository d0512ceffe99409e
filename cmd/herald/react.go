package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

func reactCommand(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("react")
	channel := f.String("channel", "channel id")
	update := f.String("update", "update id")
	remove := f.Bool("remove", "remove your reaction instead of setting one")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *channel == "" || *update == "" || *remove != (f.NArg() == 0) || f.NArg() > 1 {
		return errors.New("usage: herald react --channel ID --update ID EMOJI, or --remove without EMOJI")
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	var u *herald.Update
	if *remove {
		u, err = c.Unreact(ctx, *channel, *update)
	} else {
		u, err = c.React(ctx, *channel, *update, f.Arg(0))
	}
	if err != nil {
		return err
	}
	return f.print(u, formatReactions(u))
}

func voteCommand(ctx context.Context, a *app, args []string) error {
	f := a.newCLIFlags("vote")
	channel := f.String("channel", "channel id")
	update := f.String("update", "update id")
	retract := f.Bool("retract", "retract your vote instead of voting")
	if err := f.Parse(args); err != nil {
		return err
	}
	if *channel == "" || *update == "" || *retract != (f.NArg() == 0) {
		return errors.New("usage: herald vote --channel ID --update ID INDEX [INDEX...] (0 is the first option), or --retract")
	}
	var options []int
	for _, a := range f.args {
		i, err := strconv.Atoi(a)
		if err != nil {
			return fmt.Errorf("option %q is not an index (0 is the first option)", a)
		}
		options = append(options, i)
	}
	c, err := f.authed()
	if err != nil {
		return err
	}
	var u *herald.Update
	if *retract {
		u, err = c.Unvote(ctx, *channel, *update)
	} else {
		u, err = c.Vote(ctx, *channel, *update, options)
	}
	if err != nil {
		return err
	}
	return f.print(u, formatPoll(u))
}

// formatReactions is a one-line summary: counts, most first, then the
// caller's own reaction.
func formatReactions(u *herald.Update) string {
	type kv struct {
		e string
		n int64
	}
	var counts []kv
	for e, n := range u.Reactions {
		counts = append(counts, kv{e, n})
	}
	sort.Slice(counts, func(i, j int) bool {
		if counts[i].n != counts[j].n {
			return counts[i].n > counts[j].n
		}
		return counts[i].e < counts[j].e
	})
	var b strings.Builder
	for i, c := range counts {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s %d", c.e, c.n)
	}
	if len(counts) == 0 {
		b.WriteString("no reactions")
	}
	if u.Viewer.Reaction != nil {
		fmt.Fprintf(&b, " (yours: %s)", *u.Viewer.Reaction)
	}
	return b.String()
}

// formatPoll prints the poll's counts, marking the caller's choices.
func formatPoll(u *herald.Update) string {
	if u.Poll == nil {
		return "no poll"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d voters)", u.Poll.Question, u.Poll.Voters)
	for i, o := range u.Poll.Options {
		mark := " "
		for _, v := range u.Viewer.Votes {
			if v == i {
				mark = "*"
			}
		}
		fmt.Fprintf(&b, "\n%s %d. %s: %d", mark, i, o.Text, o.Votes)
	}
	return b.String()
}
