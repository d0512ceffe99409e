package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
	"github.com/jackc/pgx/v5"
)

// SetOperator grants or revokes operator rights by username.
func (db *DB) SetOperator(ctx context.Context, username string, on bool) (*herald.Account, error) {
	var a herald.Account
	err := db.pool.QueryRow(ctx, `UPDATE accounts SET operator = $2 WHERE username = $1 RETURNING id, username, display_name, created_at`,
		username, on).Scan(&a.ID, &a.Username, &a.DisplayName, &a.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errAccountNotFound
	} else if err != nil {
		return nil, err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return &a, nil
}

// IsOperator reports whether the account is an operator.
func (db *DB) IsOperator(ctx context.Context, accountID string) (bool, error) {
	return isOperator(ctx, db.pool, accountID)
}

func isOperator(ctx context.Context, q querier, accountID string) (bool, error) {
	var on bool
	err := q.QueryRow(ctx, `SELECT operator FROM accounts WHERE id = $1 AND suspended_at IS NULL`, accountID).Scan(&on)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return on, err
}

// CreateReport files a report.
func (db *DB) CreateReport(ctx context.Context, reporterID string, r *herald.Report) error {
	if reporterID == "" {
		return errNoActor
	}
	if err := r.Normalize(); err != nil {
		return err
	}
	return db.inTx(ctx, func(t *tx) error {
		c, err := loadAccess(ctx, t, reporterID, r.ChannelID, lockKeyShare)
		if err != nil {
			return err
		}
		if r.UpdateID != "" {
			var one int
			err := t.QueryRow(ctx, `SELECT 1 FROM updates WHERE id = $1 AND channel_id = $2 AND expires_at > $3`, r.UpdateID, c.ch.ID, t.now).Scan(&one)
			if errors.Is(err, pgx.ErrNoRows) {
				return errUpdateNotFound
			} else if err != nil {
				return err
			}
		}
		id := herald.NewID()
		_, err = t.Exec(ctx, `INSERT INTO reports (id, reporter_id, channel_id, update_id, reason, comment, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			id, reporterID, c.ch.ID, r.UpdateID, r.Reason, r.Comment, t.now)
		if isUniqueViolation(err, "reports_open_once") {
			return storeutil.ErrReportExists
		} else if err != nil {
			return err
		}
		r.ID, r.CreatedAt = id, t.now
		return nil
	})
}

// OpenReports returns open reports grouped by target, most recent first.
func (db *DB) OpenReports(ctx context.Context, limit int) ([]herald.ReportGroup, error) {
	rows, err := db.pool.Query(ctx, `SELECT channel_id, update_id, max(created_at) AS latest, count(*),
			array_agg(reason ORDER BY created_at DESC), array_agg(comment ORDER BY created_at DESC)
		FROM reports WHERE closed_at IS NULL GROUP BY channel_id, update_id ORDER BY latest DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []herald.ReportGroup
	for rows.Next() {
		var g herald.ReportGroup
		var reasons, comments []string
		if err := rows.Scan(&g.ChannelID, &g.UpdateID, &g.LatestAt, &g.Count, &reasons, &comments); err != nil {
			return nil, err
		}
		g.LatestAt, g.Reasons, g.Comments = g.LatestAt.UTC(), map[string]int{}, []string{}
		for _, r := range reasons {
			g.Reasons[r]++
		}
		for _, c := range comments {
			if c != "" {
				g.Comments = append(g.Comments, c)
			}
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Moderate applies an operator action and records it in the audit log.
func (db *DB) Moderate(ctx context.Context, m herald.Moderation) (*herald.AuditEntry, error) {
	reason, err := herald.NormalizeModerationReason(m.Reason)
	if err != nil {
		return nil, err
	}
	var entry *herald.AuditEntry
	err = db.inTx(ctx, func(t *tx) error {
		var opName string
		var isOp bool
		err := t.QueryRow(ctx, `SELECT username, operator AND suspended_at IS NULL FROM accounts WHERE id = $1`, m.OperatorID).Scan(&opName, &isOp)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !isOp) {
			return storeutil.ErrNotOperator
		} else if err != nil {
			return err
		}
		e := herald.AuditEntry{OperatorID: m.OperatorID, Operator: opName, Action: m.Action, Reason: reason, CreatedAt: t.now}
		channel := func(id, lock string) (*chanRow, bool, error) {
			r, err := scanChannel(t.QueryRow(ctx, `SELECT `+channelCols+` FROM `+channelFrom+` WHERE c.id = $3`+lock, "", t.now, id))
			if errors.Is(err, pgx.ErrNoRows) {
				return nil, false, errChannelNotFound
			} else if err != nil {
				return nil, false, err
			}
			var suspended bool
			if err := t.QueryRow(ctx, `SELECT suspended_at IS NOT NULL FROM channels WHERE pk = $1`, r.pk).Scan(&suspended); err != nil {
				return nil, false, err
			}
			return r, suspended, nil
		}
		notice := func(r *chanRow, updateID string) error {
			chID := r.ch.ID
			if _, err := t.Exec(ctx, `INSERT INTO channel_notices (channel_id, action, update_id, reason, created_at) VALUES ($1, $2, $3, $4, $5)`,
				chID, m.Action, updateID, reason, t.now); err != nil {
				return err
			}
			// Each admin hears of it at once on their own stream.
			rows, err := t.Query(ctx, `SELECT account_id FROM channel_admins WHERE channel_id = $1`, chID)
			if err != nil {
				return err
			}
			admins, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			for _, acc := range admins {
				if err := t.appendEvent(ctx, herald.Event{Stream: herald.AccountStream(acc), Type: herald.EventChannelModerated, ChannelID: chID, UpdateID: updateID, Channel: r.public()}); err != nil {
					return err
				}
			}
			return nil
		}
		closeReports := func(chID, updateID string, all bool) error {
			_, err := t.Exec(ctx, `UPDATE reports SET closed_at = $1 WHERE channel_id = $2 AND closed_at IS NULL AND (update_id = $3 OR $4)`,
				t.now, chID, updateID, all)
			return err
		}
		updated := func(r *chanRow) error {
			return t.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventChannelUpdated, ChannelID: r.ch.ID, Channel: r.public()})
		}
		suspend := func(r *chanRow) error {
			if _, err := t.Exec(ctx, `UPDATE channels SET listed_before = listed, listed = false, suspended_at = $2, suspension_reason = $3, invite_code = $4 WHERE pk = $1`,
				r.pk, t.now, reason, herald.NewInviteCode()); err != nil {
				return err
			}
			r.ch.Listed = false
			return updated(r)
		}
		lift := func(r *chanRow) error {
			if err := t.QueryRow(ctx, `UPDATE channels SET listed = listed_before, suspended_at = NULL, suspension_reason = '' WHERE pk = $1 RETURNING listed`, r.pk).Scan(&r.ch.Listed); err != nil {
				return err
			}
			return updated(r)
		}
		switch m.Action {
		case herald.ActionRemoveUpdate:
			r, _, err := channel(m.ChannelID, lockKeyShare)
			if err != nil {
				return err
			}
			// The counter header before the stream head: FlushCounts' lock order.
			if _, err := t.lockLiveUpdate(ctx, r.ch.ID, m.UpdateID); err != nil {
				return err
			}
			if err := t.eraseUpdates(ctx, []string{m.UpdateID}); err != nil {
				return err
			}
			if err := t.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateDeleted, ChannelID: r.ch.ID, UpdateID: m.UpdateID}); err != nil {
				return err
			}
			if err := notice(r, m.UpdateID); err != nil {
				return err
			}
			if err := closeReports(r.ch.ID, m.UpdateID, false); err != nil {
				return err
			}
			e.TargetKind, e.TargetID, e.ChannelID = "update", m.UpdateID, r.ch.ID
		case herald.ActionSuspendChannel, herald.ActionLiftChannel:
			r, suspended, err := channel(m.ChannelID, lockNoKeyUpd)
			if err != nil {
				return err
			}
			if suspended == (m.Action == herald.ActionSuspendChannel) {
				return storeutil.ErrNothingToDo
			}
			if m.Action == herald.ActionSuspendChannel {
				err = suspend(r)
			} else {
				err = lift(r)
			}
			if err != nil {
				return err
			}
			if err := notice(r, ""); err != nil {
				return err
			}
			if m.Action == herald.ActionSuspendChannel {
				if err := closeReports(r.ch.ID, "", true); err != nil {
					return err
				}
			}
			e.TargetKind, e.TargetID, e.ChannelID = "channel", r.ch.ID, r.ch.ID
		case herald.ActionVerify, herald.ActionUnverify:
			r, _, err := channel(m.ChannelID, lockNoKeyUpd)
			if err != nil {
				return err
			}
			on := m.Action == herald.ActionVerify
			if _, err := t.Exec(ctx, `UPDATE channels SET verified = $2 WHERE pk = $1`, r.pk, on); err != nil {
				return err
			}
			r.ch.Verified = on
			if err := updated(r); err != nil {
				return err
			}
			e.TargetKind, e.TargetID, e.ChannelID = "channel", r.ch.ID, r.ch.ID
		case herald.ActionDismiss:
			r, _, err := channel(m.ChannelID, lockNone)
			if err != nil {
				return err
			}
			if err := closeReports(r.ch.ID, m.UpdateID, false); err != nil {
				return err
			}
			e.TargetKind, e.TargetID, e.ChannelID = "channel", r.ch.ID, r.ch.ID
			if m.UpdateID != "" {
				e.TargetKind, e.TargetID = "update", m.UpdateID
			}
		case herald.ActionSuspendAccount, herald.ActionLiftAccount:
			if m.AccountID == m.OperatorID {
				return storeutil.ErrNothingToDo
			}
			var at *time.Time
			if m.Action == herald.ActionSuspendAccount {
				at = &t.now
			}
			tag, err := t.Exec(ctx, `UPDATE accounts SET suspended_at = $2 WHERE id = $1 AND (suspended_at IS NULL) = $3`, m.AccountID, at, at != nil)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				var one int
				if err := t.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = $1`, m.AccountID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
					return errAccountNotFound
				} else if err != nil {
					return err
				}
				return storeutil.ErrNothingToDo
			}
			if at != nil {
				if _, err := t.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1`, m.AccountID); err != nil {
					return err
				}
			}
			e.TargetKind, e.TargetID = "account", m.AccountID
		case herald.ActionReviewUpheld, herald.ActionReviewLifted:
			var chID string
			err := t.QueryRow(ctx, `SELECT channel_id FROM review_requests WHERE id = $1 AND outcome = '' FOR UPDATE`, m.ReviewID).Scan(&chID)
			if errors.Is(err, pgx.ErrNoRows) {
				return storeutil.ErrReviewNotFound
			} else if err != nil {
				return err
			}
			outcome := "upheld"
			if m.Action == herald.ActionReviewLifted {
				outcome = "lifted"
			}
			if _, err := t.Exec(ctx, `UPDATE review_requests SET outcome = $2, decided_at = $3, decision_reason = $4 WHERE id = $1`,
				m.ReviewID, outcome, t.now, reason); err != nil {
				return err
			}
			r, suspended, err := channel(chID, lockNoKeyUpd)
			if err != nil {
				return err
			}
			if m.Action == herald.ActionReviewLifted && suspended {
				if err := lift(r); err != nil {
					return err
				}
			}
			if err := notice(r, ""); err != nil {
				return err
			}
			e.TargetKind, e.TargetID, e.ChannelID = "review", m.ReviewID, chID
		default:
			return storeutil.ErrUnknownAction
		}
		err = t.QueryRow(ctx, `INSERT INTO audit_log (operator_id, operator, action, target_kind, target_id, channel_id, reason, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq`, e.OperatorID, e.Operator, e.Action, e.TargetKind, e.TargetID, e.ChannelID, e.Reason, e.CreatedAt).Scan(&e.Seq)
		entry = &e
		return err
	})
	return entry, err
}

// AuditLog returns the newest entries first.
func (db *DB) AuditLog(ctx context.Context, before int64, limit int) ([]herald.AuditEntry, error) {
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := db.pool.Query(ctx, `SELECT seq, operator_id, operator, action, target_kind, target_id, channel_id, reason, created_at
		FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []herald.AuditEntry
	for rows.Next() {
		var e herald.AuditEntry
		if err := rows.Scan(&e.Seq, &e.OperatorID, &e.Operator, &e.Action, &e.TargetKind, &e.TargetID, &e.ChannelID, &e.Reason, &e.CreatedAt); err != nil {
			return nil, err
		}
		e.CreatedAt = e.CreatedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// LookupChannel returns any live channel's public view and its suspension.
func (db *DB) LookupChannel(ctx context.Context, channelID string) (*herald.Channel, *herald.Suspension, error) {
	r, err := scanChannel(db.pool.QueryRow(ctx, `SELECT `+channelCols+` FROM `+channelFrom+` WHERE c.id = $3`, "", db.now(), channelID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, errChannelNotFound
	} else if err != nil {
		return nil, nil, err
	}
	s, err := suspension(ctx, db.pool, channelID)
	return r.public(), s, err
}

func suspension(ctx context.Context, q querier, channelID string) (*herald.Suspension, error) {
	var at *time.Time
	var reason string
	err := q.QueryRow(ctx, `SELECT suspended_at, suspension_reason FROM channels WHERE id = $1`, channelID).Scan(&at, &reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errChannelNotFound
	} else if err != nil || at == nil {
		return nil, err
	}
	return &herald.Suspension{Reason: reason, At: at.UTC()}, nil
}

// refuseSuspended refuses a write to a suspended channel.
func refuseSuspended(ctx context.Context, q querier, pk int64) error {
	var suspended bool
	if err := q.QueryRow(ctx, `SELECT suspended_at IS NOT NULL FROM channels WHERE pk = $1`, pk).Scan(&suspended); err != nil {
		return err
	}
	if suspended {
		return herald.ErrChannelSuspended
	}
	return nil
}

// ChannelSuspension returns the channel's suspension, or nil.
func (db *DB) ChannelSuspension(ctx context.Context, channelID string) (*herald.Suspension, error) {
	return suspension(ctx, db.pool, channelID)
}

// AccountSuspended reports whether an account is suspended.
func (db *DB) AccountSuspended(ctx context.Context, accountID string) (bool, error) {
	var suspended bool
	err := db.pool.QueryRow(ctx, `SELECT suspended_at IS NOT NULL FROM accounts WHERE id = $1`, accountID).Scan(&suspended)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, errAccountNotFound
	}
	return suspended, err
}

// Notices returns what operators told the channel's admins.
func (db *DB) Notices(ctx context.Context, actorID, channelID string) ([]herald.Notice, error) {
	r, err := loadAccess(ctx, db.pool, actorID, channelID, lockNone)
	if err != nil {
		return nil, err
	}
	if err := r.rel.Admin(actorID); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT action, update_id, reason, created_at FROM channel_notices WHERE channel_id = $1
		ORDER BY created_at DESC, seq DESC LIMIT 100`, r.ch.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []herald.Notice
	for rows.Next() {
		var n herald.Notice
		if err := rows.Scan(&n.Action, &n.UpdateID, &n.Reason, &n.CreatedAt); err != nil {
			return nil, err
		}
		n.CreatedAt = n.CreatedAt.UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}

// RequestReview files the owner's review request of a suspension.
func (db *DB) RequestReview(ctx context.Context, ownerID string, rr *herald.ReviewRequest) error {
	if err := storeutil.NormalizeReview(rr); err != nil {
		return err
	}
	return db.inTx(ctx, func(t *tx) error {
		r, err := loadAccess(ctx, t, ownerID, rr.ChannelID, lockKeyShare)
		if err != nil {
			return err
		}
		if err := r.rel.Owner(ownerID); err != nil {
			return err
		}
		if err := refuseSuspended(ctx, t, r.pk); err == nil {
			return storeutil.ErrNotSuspended
		} else if !errors.Is(err, herald.ErrChannelSuspended) {
			return err
		}
		id := herald.NewID()
		_, err = t.Exec(ctx, `INSERT INTO review_requests (id, channel_id, reason, text, created_at) VALUES ($1, $2, $3, $4, $5)`,
			id, r.ch.ID, rr.Reason, rr.Text, t.now)
		if isUniqueViolation(err, "review_requests_open") {
			return storeutil.ErrReviewOpen
		} else if err != nil {
			return err
		}
		rr.ID, rr.CreatedAt, rr.ChannelID = id, t.now, r.ch.ID
		return nil
	})
}

// Reviews returns a channel's review requests (admins) or every open one (operators).
func (db *DB) Reviews(ctx context.Context, actorID, channelID string) ([]herald.ReviewRequest, error) {
	var rows pgx.Rows
	if channelID == "" {
		ok, err := isOperator(ctx, db.pool, actorID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, storeutil.ErrNotOperator
		}
		rows, err = db.pool.Query(ctx, `SELECT id, channel_id, reason, text, created_at, outcome, decided_at, decision_reason
			FROM review_requests WHERE outcome = '' ORDER BY created_at, seq`)
		if err != nil {
			return nil, err
		}
	} else {
		r, err := loadAccess(ctx, db.pool, actorID, channelID, lockNone)
		if err != nil {
			return nil, err
		}
		if err := r.rel.Admin(actorID); err != nil {
			return nil, err
		}
		rows, err = db.pool.Query(ctx, `SELECT id, channel_id, reason, text, created_at, outcome, decided_at, decision_reason
			FROM review_requests WHERE channel_id = $1 ORDER BY created_at DESC, seq DESC`, r.ch.ID)
		if err != nil {
			return nil, err
		}
	}
	defer rows.Close()
	var out []herald.ReviewRequest
	for rows.Next() {
		var rr herald.ReviewRequest
		if err := rows.Scan(&rr.ID, &rr.ChannelID, &rr.Reason, &rr.Text, &rr.CreatedAt, &rr.Outcome, &rr.DecidedAt, &rr.Decision); err != nil {
			return nil, err
		}
		rr.CreatedAt = rr.CreatedAt.UTC()
		if rr.DecidedAt != nil {
			d := rr.DecidedAt.UTC()
			rr.DecidedAt = &d
		}
		out = append(out, rr)
	}
	return out, rows.Err()
}

// LookupUpdate returns any live update as operators read it.
func (db *DB) LookupUpdate(ctx context.Context, channelID, updateID string) (*herald.Update, error) {
	var owner string
	err := db.pool.QueryRow(ctx, `SELECT account_id FROM channel_admins WHERE channel_id = $1 AND role = 'owner'`, channelID).Scan(&owner)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errChannelNotFound
	} else if err != nil {
		return nil, err
	}
	u, err := db.FindUpdate(ctx, owner, channelID, updateID)
	if err != nil {
		return nil, err
	}
	u.Viewer = herald.UpdateViewer{}
	return u, nil
}
