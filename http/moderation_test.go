package http_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald"
	hhttp "github.com/heraldhq/herald/http"
)

// act posts an operator action and returns the answer.
func (e *env) act(op *user, body map[string]string) response {
	e.t.Helper()
	b, _ := json.Marshal(body)
	return e.do("POST", "/api/v1/admin/actions", op.Token(), b)
}

func (e *env) operator(name string) *user {
	e.t.Helper()
	u := e.signup(name)
	if _, err := e.db.SetOperator(ctx, name, true); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) report(u *user, body string) response {
	e.t.Helper()
	return e.do("POST", "/api/v1/reports", u.Token(), []byte(body))
}

// The whole moderation flow through the API: report -> queue -> suspend ->
// follower sees the notice -> owner asks for a review -> operator lifts;
// every action in the audit log; the admins told why.
func TestModerationFlow(t *testing.T) {
	e := withHub(t)
	owner := e.signup("owner")
	follower := e.signup("follower")
	reporter := e.signup("reporter")
	op := e.operator("operator")
	ch := e.channel(owner, "Totally Real Bank")
	if _, err := follower.Follow(ctx, ch.ID); err != nil {
		t.Fatal(err)
	}
	up := e.post(owner, ch.ID, "Send us your password")

	// Reports: anonymous refused, bad reason refused, one open per target.
	if r := e.do("POST", "/api/v1/reports", "", []byte(`{"channel_id":"`+ch.ID+`","reason":"scam"}`)); r.status != 401 {
		t.Fatalf("anonymous report: %d", r.status)
	}
	if r := e.report(reporter, `{"channel_id":"`+ch.ID+`","reason":"boring"}`); r.status != 400 || r.problem(t).Type != hhttp.ProblemTypeBase+"invalid-reason" {
		t.Fatalf("bad reason: %d %s", r.status, r.body)
	}
	if r := e.report(reporter, `{"channel_id":"`+ch.ID+`","update_id":"`+up.ID+`","reason":"scam","comment":"phishing"}`); r.status != 201 {
		t.Fatalf("report: %d %s", r.status, r.body)
	}
	if r := e.report(reporter, `{"channel_id":"`+ch.ID+`","update_id":"`+up.ID+`","reason":"spam"}`); r.status != 409 {
		t.Fatalf("second open report: %d %s", r.status, r.body)
	}
	if r := e.report(follower, `{"channel_id":"`+ch.ID+`","reason":"impersonation"}`); r.status != 201 {
		t.Fatalf("report: %d %s", r.status, r.body)
	}

	// The queue: operators only (404 for others), grouped, with the content as it is now.
	if r := e.do("GET", "/api/v1/admin/reports", owner.Token(), nil); r.status != 404 {
		t.Fatalf("queue as a non-operator: %d", r.status)
	}
	r := e.do("GET", "/api/v1/admin/reports", op.Token(), nil)
	var q struct {
		Targets []struct {
			ChannelID string `json:"channel_id"`
			UpdateID  string `json:"update_id"`
			Count     int
			Reasons   map[string]int
			Comments  []string
			Channel   *herald.Channel
			Update    *herald.Update
		}
	}
	if err := json.Unmarshal(r.body, &q); err != nil || r.status != 200 || len(q.Targets) != 2 {
		t.Fatalf("queue: %d %s", r.status, r.body)
	}
	if q.Targets[0].UpdateID != "" || q.Targets[0].Reasons["impersonation"] != 1 || q.Targets[0].Channel.Name != ch.Name ||
		q.Targets[1].Update == nil || q.Targets[1].Update.Text != "Send us your password" || q.Targets[1].Comments[0] != "phishing" {
		t.Fatalf("queue = %s", r.body)
	}

	// Remove the update, then suspend the channel; each needs a reason.
	if r := e.act(op, map[string]string{"action": "remove_update", "channel_id": ch.ID, "update_id": up.ID}); r.status != 400 {
		t.Fatalf("action without a reason: %d %s", r.status, r.body)
	}
	if r := e.act(op, map[string]string{"action": "remove_update", "channel_id": ch.ID, "update_id": up.ID, "reason": "phishing"}); r.status != 200 {
		t.Fatalf("remove update: %d %s", r.status, r.body)
	}
	if r := e.act(owner, map[string]string{"action": "suspend_channel", "channel_id": ch.ID, "reason": "mine now"}); r.status != 404 {
		t.Fatalf("a non-operator acting: %d %s", r.status, r.body)
	}
	if r := e.act(op, map[string]string{"action": "suspend_channel", "channel_id": ch.ID, "reason": "impersonates a bank"}); r.status != 200 {
		t.Fatalf("suspend: %d %s", r.status, r.body)
	}

	// The follower sees the notice instead of the history; posting is refused.
	c, err := follower.GetChannel(ctx, ch.ID)
	if err != nil || !c.Suspended {
		t.Fatalf("follower's channel = %+v, %v", c, err)
	}
	r = e.do("GET", "/api/v1/channels/"+ch.ID+"/updates", follower.Token(), nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"suspended":true`) || !strings.Contains(string(r.body), `"updates":[]`) {
		t.Fatalf("follower's history: %d %s", r.status, r.body)
	}
	_, err = owner.PostUpdate(ctx, ch.ID, "we're back", nil)
	wantProblem(t, err, 403, "channel-suspended")
	if r := e.do("GET", "/api/v1/directory?q=bank", "", nil); strings.Contains(string(r.body), ch.ID) {
		t.Fatalf("a suspended channel in the directory: %s", r.body)
	}
	if r := e.do("GET", "/api/v1/invites/"+ch.InviteCode, "", nil); r.status != 404 {
		t.Fatalf("the invite of a suspended channel: %d", r.status)
	}

	// The admins are told, with the reasons.
	r = e.do("GET", "/api/v1/channels/"+ch.ID+"/moderation", owner.Token(), nil)
	if r.status != 200 || !strings.Contains(string(r.body), "impersonates a bank") || !strings.Contains(string(r.body), "phishing") {
		t.Fatalf("owner's moderation view: %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/channels/"+ch.ID+"/moderation", follower.Token(), nil); r.status != 403 {
		t.Fatalf("follower's moderation view: %d", r.status)
	}

	// Review request by the owner; the operator lifts; the owner sees the outcome.
	if r := e.do("POST", "/api/v1/channels/"+ch.ID+"/review-requests", follower.Token(), []byte(`{"reason":"unfair","text":"please"}`)); r.status != 403 {
		t.Fatalf("review by a follower: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/channels/"+ch.ID+"/review-requests", owner.Token(), []byte(`{"reason":"misunderstood","text":"We are the bank's fan club"}`))
	if r.status != 201 {
		t.Fatalf("review request: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/api/v1/admin/review-requests", op.Token(), nil)
	var rv struct {
		Reviews []herald.ReviewRequest `json:"review_requests"`
	}
	if err := json.Unmarshal(r.body, &rv); err != nil || len(rv.Reviews) != 1 {
		t.Fatalf("open reviews: %s", r.body)
	}
	if r := e.act(op, map[string]string{"action": "review_lifted", "review_id": rv.Reviews[0].ID, "reason": "renamed to fan club"}); r.status != 200 {
		t.Fatalf("lift by review: %d %s", r.status, r.body)
	}
	if c, _ := follower.GetChannel(ctx, ch.ID); c.Suspended {
		t.Fatal("still suspended after the lift")
	}
	r = e.do("GET", "/api/v1/channels/"+ch.ID+"/moderation", owner.Token(), nil)
	if !strings.Contains(string(r.body), `"outcome":"lifted"`) || !strings.Contains(string(r.body), "renamed to fan club") {
		t.Fatalf("owner's outcome: %s", r.body)
	}
	if _, err := owner.PostUpdate(ctx, ch.ID, "back", nil); err != nil {
		t.Fatalf("posting after the lift: %v", err)
	}

	// Account suspension ends the account's sessions and streams; it can't sign in.
	st := openWS(t, e, follower.Token())
	if r := e.act(op, map[string]string{"action": "suspend_account", "account_id": follower.account.ID, "reason": "bot"}); r.status != 200 {
		t.Fatalf("suspend account: %d %s", r.status, r.body)
	}
	wantEnded(t, st)
	_, err = follower.Me(ctx)
	wantProblem(t, err, 401, "invalid-token")
	_, err = e.anon.Login(ctx, "follower", "a long enough password")
	wantProblem(t, err, 403, "account-suspended")
	_, err = e.anon.Login(ctx, "follower", "a wrong password!")
	wantProblem(t, err, 401, "invalid-credentials")
	if r := e.act(op, map[string]string{"action": "verify", "channel_id": ch.ID, "reason": "official fan club"}); r.status != 200 {
		t.Fatalf("verify: %d %s", r.status, r.body)
	}

	// Every action is in the audit log, newest first.
	r = e.do("GET", "/api/v1/admin/audit", op.Token(), nil)
	var audit struct{ Entries []herald.AuditEntry }
	if err := json.Unmarshal(r.body, &audit); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range audit.Entries {
		got = append(got, a.Action)
	}
	if strings.Join(got, " ") != "verify suspend_account review_lifted suspend_channel remove_update" {
		t.Fatalf("audit log: %v", got)
	}
	if r := e.do("GET", "/api/v1/admin/audit", owner.Token(), nil); r.status != 404 {
		t.Fatalf("audit log as a non-operator: %d", r.status)
	}
}

// No answer an admin of the channel (or an operator) can read names who
// reported: crawl every GET route as each of them.
func TestReporterInvisible(t *testing.T) {
	e := newEnv(t)
	owner, admin := e.signup("owner_olga"), e.signup("admin_adam")
	op := e.operator("operator_opal")
	ch := e.channel(owner, "Reported channel")
	if _, err := owner.AddAdmin(ctx, ch.ID, admin.account.Username); err != nil {
		t.Fatal(err)
	}
	up := e.post(owner, ch.ID, "reported update")
	var reporters []*user
	for _, name := range []string{"reporter_rita", "reporter_rob"} {
		u := e.signup(name)
		reporters = append(reporters, u)
		if _, err := u.Follow(ctx, ch.ID); err != nil {
			t.Fatal(err)
		}
		if r := e.report(u, `{"channel_id":"`+ch.ID+`","reason":"spam","comment":"see for yourself"}`); r.status != 201 {
			t.Fatalf("report: %d %s", r.status, r.body)
		}
		if r := e.report(u, `{"channel_id":"`+ch.ID+`","update_id":"`+up.ID+`","reason":"hate"}`); r.status != 201 {
			t.Fatalf("report: %d %s", r.status, r.body)
		}
	}
	if r := e.act(op, map[string]string{"action": "remove_update", "channel_id": ch.ID, "update_id": up.ID, "reason": "hate speech"}); r.status != 200 {
		t.Fatal(string(r.body))
	}
	if r := e.act(op, map[string]string{"action": "suspend_channel", "channel_id": ch.ID, "reason": "spam"}); r.status != 200 {
		t.Fatal(string(r.body))
	}
	if r := e.do("POST", "/api/v1/channels/"+ch.ID+"/review-requests", owner.Token(), []byte(`{"reason":"unfair","text":"why?"}`)); r.status != 201 {
		t.Fatal(string(r.body))
	}
	// Reported again after the suspension closed the first reports.
	if r := e.report(reporters[0], `{"channel_id":"`+ch.ID+`","reason":"spam","comment":"see for yourself"}`); r.status != 201 {
		t.Fatalf("report: %d %s", r.status, r.body)
	}
	full, err := owner.GetChannel(ctx, ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"{id}": ch.ID, "{uid}": up.ID, "{account_id}": admin.account.ID, "{code}": full.InviteCode, "{username}": owner.account.Username,
		"{variant}": "original", "{key_id}": "none", "{sid}": "none", "{seq}": "1", "{webhook_id}": "none"}
	skip := map[string]bool{"GET /api/v1/events": true, "GET /api/v1/ws": true}
	n := 0
	for _, as := range []*user{owner, admin, op} {
		for _, pat := range e.srv.Patterns() {
			method, path, _ := strings.Cut(pat, " ")
			if method != "GET" || skip[pat] {
				continue
			}
			for k, v := range params {
				path = strings.ReplaceAll(path, k, v)
			}
			if strings.Contains(path, "{") {
				t.Fatalf("route %s: add a value for its path parameter to this test", pat)
			}
			r := e.do("GET", path, as.Token(), nil)
			if r.status >= 500 {
				t.Errorf("GET %s = %d", path, r.status)
			}
			n++
			for _, rep := range reporters {
				if strings.Contains(string(r.body), rep.account.ID) || strings.Contains(string(r.body), rep.account.Username) {
					t.Errorf("as %s, GET %s reveals reporter %s: %s", as.account.Username, path, rep.account.Username, r.body)
				}
			}
		}
	}
	// The crawl saw the operator's queue with the reports in it.
	r := e.do("GET", "/api/v1/admin/reports", op.Token(), nil)
	if !strings.Contains(string(r.body), "see for yourself") || n < 30 {
		t.Fatalf("queue %s after %d answers", r.body, n)
	}
}
