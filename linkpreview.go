package herald

// LinkPreview is the card of a page an update links to, fetched once by the
// server when the update is posted, so followers' devices never contact the
// linked site. Fields are plain text; Image is an absolute http(s) URL on
// the linked site (to be stored like media before it is shown).
type LinkPreview struct {
	URL         string `json:"url"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	SiteName    string `json:"site_name,omitempty"`
	Image       string `json:"image,omitempty"`
}

// Link preview limits, in characters.
const (
	PreviewTitleMaxLen       = 300
	PreviewDescriptionMaxLen = 1000
	PreviewSiteNameMaxLen    = 100
	PreviewURLMaxLen         = 2048
)
