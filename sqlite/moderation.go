package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/storeutil"
)

// SetOperator grants or revokes operator rights by username.
func (db *DB) SetOperator(ctx context.Context, username string, on bool) (*herald.Account, error) {
	var a *herald.Account
	err := db.write(ctx, func(tx *Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, `UPDATE accounts SET operator = ? WHERE username = ? RETURNING id`, boolInt(on), username).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errAccountNotFound
		} else if err != nil {
			return err
		}
		a, err = findAccount(ctx, tx, id)
		return err
	})
	return a, err
}

// IsOperator reports whether the account is an operator.
func (db *DB) IsOperator(ctx context.Context, accountID string) (bool, error) {
	return isOperator(ctx, pooled{db}, accountID)
}

func isOperator(ctx context.Context, q queryer, accountID string) (bool, error) {
	var on int64
	err := q.QueryRowContext(ctx, `SELECT operator FROM accounts WHERE id = ? AND suspended_at IS NULL`, accountID).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return on != 0, err
}

// CreateReport files a report.
func (db *DB) CreateReport(ctx context.Context, reporterID string, r *herald.Report) error {
	if reporterID == "" {
		return errNoActor
	}
	if err := r.Normalize(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		c, err := loadChannel(ctx, tx, tx.now, reporterID, r.ChannelID)
		if err != nil {
			return err
		}
		if r.UpdateID != "" {
			if _, err := liveUpdate(ctx, tx, tx.now, c.pk, r.UpdateID); err != nil {
				return err
			}
		}
		id := herald.NewID()
		_, err = tx.ExecContext(ctx, `INSERT INTO reports (id, reporter_id, channel_pk, update_id, reason, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, reporterID, c.pk, r.UpdateID, r.Reason, r.Comment, nanos(tx.now))
		if isUnique(err) {
			return storeutil.ErrReportExists
		} else if err != nil {
			return err
		}
		r.ID, r.CreatedAt = id, tx.now
		return nil
	})
}

// OpenReports returns open reports grouped by target, most recent first.
func (db *DB) OpenReports(ctx context.Context, limit int) ([]herald.ReportGroup, error) {
	var out []herald.ReportGroup
	err := db.view(ctx, func(q queryer, _ time.Time) error {
		out = out[:0]
		rows, err := q.QueryContext(ctx, `SELECT c.id, r.update_id, max(r.created_at) AS latest FROM reports r JOIN channels c ON c.pk = r.channel_pk
			WHERE r.closed_at IS NULL GROUP BY r.channel_pk, r.update_id ORDER BY latest DESC LIMIT ?`, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var g herald.ReportGroup
			var latest int64
			if err := rows.Scan(&g.ChannelID, &g.UpdateID, &latest); err != nil {
				rows.Close()
				return err
			}
			g.LatestAt, g.Reasons, g.Comments = fromNanos(latest), map[string]int{}, []string{}
			out = append(out, g)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			g := &out[i]
			rows, err := q.QueryContext(ctx, `SELECT r.reason, r.comment FROM reports r JOIN channels c ON c.pk = r.channel_pk
				WHERE c.id = ? AND r.update_id = ? AND r.closed_at IS NULL ORDER BY r.created_at DESC`, g.ChannelID, g.UpdateID)
			if err != nil {
				return err
			}
			for rows.Next() {
				var reason, comment string
				if err := rows.Scan(&reason, &comment); err != nil {
					rows.Close()
					return err
				}
				g.Count++
				g.Reasons[reason]++
				if comment != "" {
					g.Comments = append(g.Comments, comment)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Moderate applies an operator action and records it in the audit log.
func (db *DB) Moderate(ctx context.Context, m herald.Moderation) (*herald.AuditEntry, error) {
	reason, err := herald.NormalizeModerationReason(m.Reason)
	if err != nil {
		return nil, err
	}
	var entry *herald.AuditEntry
	err = db.write(ctx, func(tx *Tx) error {
		op, err := findAccount(ctx, tx, m.OperatorID)
		if err != nil {
			return storeutil.ErrNotOperator
		}
		if ok, err := isOperator(ctx, tx, m.OperatorID); err != nil {
			return err
		} else if !ok {
			return storeutil.ErrNotOperator
		}
		e := herald.AuditEntry{OperatorID: op.ID, Operator: op.Username, Action: m.Action, Reason: reason, CreatedAt: tx.now}
		// channel loads the action's channel, listed or not, with its suspension.
		channel := func(id string) (*chanRow, bool, error) {
			r, err := scanChannel(tx.QueryRowContext(ctx, channelSelect+`WHERE c.id = ?3`, nanos(tx.now), "", id))
			if errors.Is(err, sql.ErrNoRows) {
				return nil, false, errChannelNotFound
			} else if err != nil {
				return nil, false, err
			}
			var susp sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT suspended_at FROM channels WHERE pk = ?`, r.pk).Scan(&susp); err != nil {
				return nil, false, err
			}
			return r, susp.Valid, nil
		}
		notice := func(r *chanRow, updateID string) error {
			pk := r.pk
			if _, err := tx.ExecContext(ctx, `INSERT INTO channel_notices (channel_pk, action, update_id, reason, created_at) VALUES (?, ?, ?, ?, ?)`,
				pk, m.Action, updateID, reason, nanos(tx.now)); err != nil {
				return err
			}
			// Each admin hears of it at once on their own stream.
			rows, err := tx.QueryContext(ctx, `SELECT account_id FROM admins WHERE channel_pk = ?`, pk)
			if err != nil {
				return err
			}
			var evs []herald.Event
			for rows.Next() {
				var acc string
				if err := rows.Scan(&acc); err != nil {
					rows.Close()
					return err
				}
				evs = append(evs, herald.Event{Stream: herald.AccountStream(acc), Type: herald.EventChannelModerated, ChannelID: r.ch.ID, UpdateID: updateID, Channel: r.public()})
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
			for _, ev := range evs {
				if err := tx.appendEvent(ctx, ev); err != nil {
					return err
				}
			}
			return nil
		}
		closeReports := func(pk int64, updateID string, all bool) error {
			q := `UPDATE reports SET closed_at = ? WHERE channel_pk = ? AND closed_at IS NULL AND (update_id = ? OR ?)`
			_, err := tx.ExecContext(ctx, q, nanos(tx.now), pk, updateID, all)
			return err
		}
		suspend := func(r *chanRow) error {
			if _, err := tx.ExecContext(ctx, `UPDATE channels SET listed_before = listed, listed = 0, suspended_at = ?, suspension_reason = ?, invite_code = ? WHERE pk = ?`,
				nanos(tx.now), reason, herald.NewInviteCode(), r.pk); err != nil {
				return err
			}
			r.ch.Listed = false
			return tx.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventChannelUpdated, ChannelID: r.ch.ID, Channel: r.public()})
		}
		lift := func(r *chanRow) error {
			var listed int64
			if err := tx.QueryRowContext(ctx, `UPDATE channels SET listed = listed_before, suspended_at = NULL, suspension_reason = '' WHERE pk = ? RETURNING listed`, r.pk).Scan(&listed); err != nil {
				return err
			}
			r.ch.Listed = listed != 0
			return tx.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventChannelUpdated, ChannelID: r.ch.ID, Channel: r.public()})
		}
		switch m.Action {
		case herald.ActionRemoveUpdate:
			r, _, err := channel(m.ChannelID)
			if err != nil {
				return err
			}
			ur, err := liveUpdate(ctx, tx, tx.now, r.pk, m.UpdateID)
			if err != nil {
				return err
			}
			if err := eraseUpdates(ctx, tx, []int64{ur.pk}, []string{ur.u.ID}); err != nil {
				return err
			}
			if err := tx.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventUpdateDeleted, ChannelID: r.ch.ID, UpdateID: ur.u.ID}); err != nil {
				return err
			}
			if err := notice(r, ur.u.ID); err != nil {
				return err
			}
			if err := closeReports(r.pk, ur.u.ID, false); err != nil {
				return err
			}
			e.TargetKind, e.TargetID, e.ChannelID = "update", ur.u.ID, r.ch.ID
		case herald.ActionSuspendChannel, herald.ActionLiftChannel:
			r, suspended, err := channel(m.ChannelID)
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
				if err := closeReports(r.pk, "", true); err != nil {
					return err
				}
			}
			e.TargetKind, e.TargetID, e.ChannelID = "channel", r.ch.ID, r.ch.ID
		case herald.ActionVerify, herald.ActionUnverify:
			r, _, err := channel(m.ChannelID)
			if err != nil {
				return err
			}
			on := m.Action == herald.ActionVerify
			if _, err := tx.ExecContext(ctx, `UPDATE channels SET verified = ? WHERE pk = ?`, boolInt(on), r.pk); err != nil {
				return err
			}
			r.ch.Verified = on
			if err := tx.appendEvent(ctx, herald.Event{Stream: r.ch.ID, Type: herald.EventChannelUpdated, ChannelID: r.ch.ID, Channel: r.public()}); err != nil {
				return err
			}
			e.TargetKind, e.TargetID, e.ChannelID = "channel", r.ch.ID, r.ch.ID
		case herald.ActionDismiss:
			r, _, err := channel(m.ChannelID)
			if err != nil {
				return err
			}
			if err := closeReports(r.pk, m.UpdateID, false); err != nil {
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
			var at any
			if m.Action == herald.ActionSuspendAccount {
				at = nanos(tx.now)
			}
			res, err := tx.ExecContext(ctx, `UPDATE accounts SET suspended_at = ? WHERE id = ? AND (suspended_at IS NULL) = ?`, at, m.AccountID, at != nil)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				if _, err := findAccount(ctx, tx, m.AccountID); err != nil {
					return err
				}
				return storeutil.ErrNothingToDo
			}
			if at != nil {
				if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE account_id = ?`, m.AccountID); err != nil {
					return err
				}
			}
			e.TargetKind, e.TargetID = "account", m.AccountID
		case herald.ActionReviewUpheld, herald.ActionReviewLifted:
			var pk int64
			err := tx.QueryRowContext(ctx, `SELECT channel_pk FROM review_requests WHERE id = ? AND outcome = ''`, m.ReviewID).Scan(&pk)
			if errors.Is(err, sql.ErrNoRows) {
				return storeutil.ErrReviewNotFound
			} else if err != nil {
				return err
			}
			outcome := "upheld"
			if m.Action == herald.ActionReviewLifted {
				outcome = "lifted"
			}
			if _, err := tx.ExecContext(ctx, `UPDATE review_requests SET outcome = ?, decided_at = ?, decision_reason = ? WHERE id = ?`,
				outcome, nanos(tx.now), reason, m.ReviewID); err != nil {
				return err
			}
			var chID string
			if err := tx.QueryRowContext(ctx, `SELECT id FROM channels WHERE pk = ?`, pk).Scan(&chID); err != nil {
				return err
			}
			r, suspended, err := channel(chID)
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
		err = tx.QueryRowContext(ctx, `INSERT INTO audit_log (operator_id, operator, action, target_kind, target_id, channel_id, reason, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`, e.OperatorID, e.Operator, e.Action, e.TargetKind, e.TargetID, e.ChannelID, e.Reason, nanos(e.CreatedAt)).Scan(&e.Seq)
		entry = &e
		return err
	})
	if err == nil && m.Action == herald.ActionRemoveUpdate {
		db.noteErased()
	}
	return entry, err
}

// AuditLog returns the newest entries first.
func (db *DB) AuditLog(ctx context.Context, before int64, limit int) ([]herald.AuditEntry, error) {
	if before <= 0 {
		before = 1 << 62
	}
	var out []herald.AuditEntry
	err := db.view(ctx, func(q queryer, _ time.Time) error {
		out = out[:0]
		rows, err := q.QueryContext(ctx, `SELECT seq, operator_id, operator, action, target_kind, target_id, channel_id, reason, created_at
			FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT ?`, before, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e herald.AuditEntry
			var at int64
			if err := rows.Scan(&e.Seq, &e.OperatorID, &e.Operator, &e.Action, &e.TargetKind, &e.TargetID, &e.ChannelID, &e.Reason, &at); err != nil {
				return err
			}
			e.CreatedAt = fromNanos(at)
			out = append(out, e)
		}
		return rows.Err()
	})
	return out, err
}

// LookupChannel returns any live channel's public view and its suspension.
func (db *DB) LookupChannel(ctx context.Context, channelID string) (*herald.Channel, *herald.Suspension, error) {
	var ch *herald.Channel
	var s *herald.Suspension
	err := db.view(ctx, func(q queryer, now time.Time) error {
		r, err := scanChannel(q.QueryRowContext(ctx, channelSelect+`WHERE c.id = ?3`, nanos(now), "", channelID))
		if errors.Is(err, sql.ErrNoRows) {
			return errChannelNotFound
		} else if err != nil {
			return err
		}
		ch = r.public()
		s, err = suspension(ctx, q, channelID)
		return err
	})
	return ch, s, err
}

func suspension(ctx context.Context, q queryer, channelID string) (*herald.Suspension, error) {
	var at sql.NullInt64
	var reason string
	err := q.QueryRowContext(ctx, `SELECT suspended_at, suspension_reason FROM channels WHERE id = ?`, channelID).Scan(&at, &reason)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errChannelNotFound
	} else if err != nil || !at.Valid {
		return nil, err
	}
	return &herald.Suspension{Reason: reason, At: fromNanos(at.Int64)}, nil
}

// refuseSuspended refuses a write to a suspended channel.
func refuseSuspended(ctx context.Context, q queryer, pk int64) error {
	var at sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT suspended_at FROM channels WHERE pk = ?`, pk).Scan(&at); err != nil {
		return err
	}
	if at.Valid {
		return herald.ErrChannelSuspended
	}
	return nil
}

// ChannelSuspension returns the channel's suspension, or nil.
func (db *DB) ChannelSuspension(ctx context.Context, channelID string) (*herald.Suspension, error) {
	return suspension(ctx, pooled{db}, channelID)
}

// AccountSuspended reports whether an account is suspended.
func (db *DB) AccountSuspended(ctx context.Context, accountID string) (bool, error) {
	var at sql.NullInt64
	err := pooled{db}.QueryRowContext(ctx, `SELECT suspended_at FROM accounts WHERE id = ?`, accountID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return false, errAccountNotFound
	}
	return at.Valid, err
}

// Notices returns what operators told the channel's admins.
func (db *DB) Notices(ctx context.Context, actorID, channelID string) ([]herald.Notice, error) {
	var out []herald.Notice
	err := db.view(ctx, func(q queryer, now time.Time) error {
		out = out[:0]
		r, err := loadAccess(ctx, q, actorID, channelID)
		if err != nil {
			return err
		}
		if err := r.rel.Admin(actorID); err != nil {
			return err
		}
		rows, err := q.QueryContext(ctx, `SELECT action, update_id, reason, created_at FROM channel_notices WHERE channel_pk = ? ORDER BY created_at DESC, rowid DESC LIMIT 100`, r.pk)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n herald.Notice
			var at int64
			if err := rows.Scan(&n.Action, &n.UpdateID, &n.Reason, &at); err != nil {
				return err
			}
			n.CreatedAt = fromNanos(at)
			out = append(out, n)
		}
		return rows.Err()
	})
	return out, err
}

// RequestReview files the owner's review request of a suspension.
func (db *DB) RequestReview(ctx context.Context, ownerID string, rr *herald.ReviewRequest) error {
	if err := storeutil.NormalizeReview(rr); err != nil {
		return err
	}
	return db.write(ctx, func(tx *Tx) error {
		r, err := loadAccess(ctx, tx, ownerID, rr.ChannelID)
		if err != nil {
			return err
		}
		if err := r.rel.Owner(ownerID); err != nil {
			return err
		}
		if err := refuseSuspended(ctx, tx, r.pk); err == nil {
			return storeutil.ErrNotSuspended
		} else if !errors.Is(err, herald.ErrChannelSuspended) {
			return err
		}
		id := herald.NewID()
		_, err = tx.ExecContext(ctx, `INSERT INTO review_requests (id, channel_pk, reason, text, created_at) VALUES (?, ?, ?, ?, ?)`,
			id, r.pk, rr.Reason, rr.Text, nanos(tx.now))
		if isUnique(err) {
			return storeutil.ErrReviewOpen
		} else if err != nil {
			return err
		}
		rr.ID, rr.CreatedAt, rr.ChannelID = id, tx.now, r.ch.ID
		return nil
	})
}

// Reviews returns a channel's review requests (admins) or every open one (operators).
func (db *DB) Reviews(ctx context.Context, actorID, channelID string) ([]herald.ReviewRequest, error) {
	var out []herald.ReviewRequest
	err := db.view(ctx, func(q queryer, _ time.Time) error {
		out = out[:0]
		var rows *sql.Rows
		if channelID == "" {
			ok, err := isOperator(ctx, q, actorID)
			if err != nil {
				return err
			}
			if !ok {
				return storeutil.ErrNotOperator
			}
			rows, err = q.QueryContext(ctx, `SELECT rr.id, c.id, rr.reason, rr.text, rr.created_at, rr.outcome, rr.decided_at, rr.decision_reason
				FROM review_requests rr JOIN channels c ON c.pk = rr.channel_pk WHERE rr.outcome = '' ORDER BY rr.created_at, rr.rowid`)
			if err != nil {
				return err
			}
		} else {
			r, err := loadAccess(ctx, q, actorID, channelID)
			if err != nil {
				return err
			}
			if err := r.rel.Admin(actorID); err != nil {
				return err
			}
			rows, err = q.QueryContext(ctx, `SELECT rr.id, ?, rr.reason, rr.text, rr.created_at, rr.outcome, rr.decided_at, rr.decision_reason
				FROM review_requests rr WHERE rr.channel_pk = ? ORDER BY rr.created_at DESC, rr.rowid DESC`, r.ch.ID, r.pk)
			if err != nil {
				return err
			}
		}
		defer rows.Close()
		for rows.Next() {
			var rr herald.ReviewRequest
			var at int64
			var decided sql.NullInt64
			if err := rows.Scan(&rr.ID, &rr.ChannelID, &rr.Reason, &rr.Text, &at, &rr.Outcome, &decided, &rr.Decision); err != nil {
				return err
			}
			rr.CreatedAt, rr.DecidedAt = fromNanos(at), nullTime(decided)
			out = append(out, rr)
		}
		return rows.Err()
	})
	return out, err
}

// LookupUpdate returns any live update as operators read it.
func (db *DB) LookupUpdate(ctx context.Context, channelID, updateID string) (*herald.Update, error) {
	var owner string
	err := pooled{db}.QueryRowContext(ctx, `SELECT a.account_id FROM admins a JOIN channels c ON c.pk = a.channel_pk
		WHERE c.id = ? AND a.role = 'owner'`, channelID).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
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
