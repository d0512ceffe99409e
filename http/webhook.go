package http

import (
	"net/http"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/webhook"
)

// Outgoing webhooks (issue 15): the channel's people admins register https
// URLs; package webhook delivers. API keys never manage webhooks
// (requireAccount refuses them; the stores refuse key actors too).

func (s *Server) webhookPath(r *http.Request) (*herald.Account, string, string, error) {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return nil, "", "", err
	}
	wid, err := pathID(r, "webhook_id")
	if err != nil {
		return nil, "", "", err
	}
	return a, id, wid, nil
}

func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	var req struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.webhooks.CheckURL(req.URL, "https"); err != nil {
		return herald.KindErrorf(herald.EINVALID, "webhook-url-refused", "%s", err.Error())
	}
	shown, key := webhook.NewSecret()
	hook := &herald.Webhook{URL: req.URL, Events: req.Events}
	if err := s.Store.CreateWebhook(r.Context(), a.ID, id, hook, key); err != nil {
		return err
	}
	// The one time the secret is shown.
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, struct {
		*herald.Webhook
		Secret string `json:"secret"`
	}{hook, shown})
}

func (s *Server) handleListWebhooks(w http.ResponseWriter, r *http.Request) error {
	a, id, err := s.accountAndChannel(r)
	if err != nil {
		return err
	}
	hooks, err := s.Store.ListWebhooks(r.Context(), a.ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Webhooks []*herald.Webhook `json:"webhooks"`
	}{hooks})
}

func (s *Server) handleUpdateWebhook(w http.ResponseWriter, r *http.Request) error {
	a, id, wid, err := s.webhookPath(r)
	if err != nil {
		return err
	}
	var p herald.WebhookPatch
	if err := decodeJSON(w, r, &p); err != nil {
		return err
	}
	hook, err := s.Store.UpdateWebhook(r.Context(), a.ID, id, wid, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, hook)
}

func (s *Server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request) error {
	a, id, wid, err := s.webhookPath(r)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteWebhook(r.Context(), a.ID, id, wid); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleRotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	a, id, wid, err := s.webhookPath(r)
	if err != nil {
		return err
	}
	shown, key := webhook.NewSecret()
	if err := s.Store.RotateWebhookSecret(r.Context(), a.ID, id, wid, key); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, struct {
		Secret string `json:"secret"`
	}{shown})
}

func (s *Server) handleWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	a, id, wid, err := s.webhookPath(r)
	if err != nil {
		return err
	}
	log, err := s.Store.WebhookDeliveries(r.Context(), a.ID, id, wid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Deliveries []herald.WebhookDelivery `json:"deliveries"`
	}{log})
}
