package http

import (
	"net/http"

	"github.com/heraldhq/herald"
	"golang.org/x/text/language"
)

// handleDirectory searches listed channels; no account needed. The store
// validates the query (sort, category, cursor...); any q is safe.
func (s *Server) handleDirectory(w http.ResponseWriter, r *http.Request) error {
	viewer, err := s.viewerID(r)
	if err != nil {
		return err
	}
	limit, _, err := queryInt(r, "limit", "invalid-limit", 1, herald.MaxDirectoryLimit)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	page, err := s.Store.SearchDirectory(r.Context(), viewer, herald.DirectoryQuery{
		Text:     v.Get("q"),
		Category: v.Get("category"),
		Country:  v.Get("country"),
		Language: v.Get("language"),
		Sort:     v.Get("sort"),
		Limit:    int(limit),
		Cursor:   v.Get("cursor"),
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page)
}

// categoryLanguages are the languages category names exist in; the first is
// the fallback.
var categoryLanguages = language.NewMatcher([]language.Tag{language.English, language.French})

// categoryJSON is a category as the API shows it: its id and its name in
// the caller's language.
type categoryJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// handleCategories lists the fixed categories, named in English or French
// after Accept-Language (English when neither is acceptable).
func (s *Server) handleCategories(w http.ResponseWriter, r *http.Request) error {
	tags, _, _ := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	_, index, conf := categoryLanguages.Match(tags...)
	french := index == 1 && conf != language.No
	out := make([]categoryJSON, len(herald.Categories))
	for i, c := range herald.Categories {
		out[i] = categoryJSON{ID: c.ID, Name: c.NameEN}
		if french {
			out[i].Name = c.NameFR
		}
	}
	lang := "en"
	if french {
		lang = "fr"
	}
	w.Header().Set("Content-Language", lang)
	w.Header().Set("Vary", "Accept-Language")
	return writeJSON(w, http.StatusOK, map[string]any{"categories": out})
}
