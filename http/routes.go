package http

import "net/http"

// routes registers every API route. Keep all registrations here, one line
// each, so the whole API is visible at a glance (docs/openapi.yaml must
// list the same routes; openapi_test.go checks it).
func (s *Server) routes() {
	s.handle("GET /healthz", s.handleHealthz)
	s.handleHTTP("GET /metrics", http.HandlerFunc(s.handleMetrics))

	s.handle("POST /api/v1/accounts", s.handleCreateAccount)
	s.handle("POST /api/v1/sessions", s.handleCreateSession)
	s.handle("DELETE /api/v1/sessions/current", s.handleDeleteSession)
	s.handle("GET /api/v1/me", s.handleMe)
	s.handle("GET /api/v1/me/channels", s.handleMyChannels)
	s.handle("GET /api/v1/me/managed-channels", s.handleMyManagedChannels)
	s.handle("PATCH /api/v1/me", s.handleUpdateMe)
	s.handle("DELETE /api/v1/me", s.handleDeleteMe)
	s.handle("PUT /api/v1/me/password", s.handleChangePassword)
	s.handle("GET /api/v1/me/sessions", s.handleListSessions)
	s.handle("DELETE /api/v1/me/sessions/{id}", s.handleRevokeSession)
	s.handle("GET /api/v1/me/export", s.handleExport)

	s.handle("POST /api/v1/channels", s.idempotent(s.handleCreateChannel))
	s.handle("GET /api/v1/channels/{id}", s.handleGetChannel)
	s.handle("PATCH /api/v1/channels/{id}", s.handleUpdateChannel)
	s.handle("DELETE /api/v1/channels/{id}", s.handleDeleteChannel)
	s.handle("GET /api/v1/channels/{id}/admins", s.handleListAdmins)
	s.handle("POST /api/v1/channels/{id}/admins", s.idempotent(s.handleAddAdmin))
	s.handle("DELETE /api/v1/channels/{id}/admins/{account_id}", s.handleRemoveAdmin)
	s.handle("POST /api/v1/channels/{id}/owner", s.handleTransferOwnership)
	s.handle("PUT /api/v1/channels/{id}/follow", s.handleFollow)
	s.handle("DELETE /api/v1/channels/{id}/follow", s.handleUnfollow)
	s.handle("PUT /api/v1/channels/{id}/mute", s.handleMute(true))
	s.handle("DELETE /api/v1/channels/{id}/mute", s.handleMute(false))

	s.handle("POST /api/v1/channels/{id}/updates", s.idempotent(s.handleCreateUpdate))
	s.handle("GET /api/v1/channels/{id}/updates", s.handleListUpdates)
	s.handle("GET /api/v1/channels/{id}/updates/{uid}", s.handleGetUpdate)
	s.handle("PATCH /api/v1/channels/{id}/updates/{uid}", s.handleEditUpdate)
	s.handle("DELETE /api/v1/channels/{id}/updates/{uid}", s.handleDeleteUpdate)
	s.handle("GET /api/v1/channels/{id}/scheduled", s.handleListScheduled)
	s.handle("PATCH /api/v1/channels/{id}/scheduled/{sid}", s.handleEditScheduled)
	s.handle("DELETE /api/v1/channels/{id}/scheduled/{sid}", s.handleCancelScheduled)
	s.handle("POST /api/v1/channels/{id}/scheduled/{sid}/publish", s.handlePublishScheduled)
	s.handle("PUT /api/v1/channels/{id}/updates/{uid}/reaction", s.handleSetReaction)
	s.handle("DELETE /api/v1/channels/{id}/updates/{uid}/reaction", s.handleRemoveReaction)
	s.handle("PUT /api/v1/channels/{id}/updates/{uid}/vote", s.handleVote)
	s.handle("DELETE /api/v1/channels/{id}/updates/{uid}/vote", s.handleRetractVote)

	s.handleNoPages("POST /api/v1/views", s.handleReportViews)
	s.handle("GET /api/v1/channels/{id}/insights", s.handleChannelInsights)

	s.handle("GET /api/v1/directory", s.handleDirectory)
	s.handle("GET /api/v1/categories", s.handleCategories)
	s.handle("POST /api/v1/channels/{id}/invite", s.idempotent(s.handleRotateInvite))
	s.handle("GET /api/v1/invites/{code}", s.handleInvite)
	s.handle("PUT /api/v1/invites/{code}/follow", s.handleFollowInvite)
	s.handle("GET /api/v1/invites/{code}/qr.svg", s.handleInviteQR("svg"))
	s.handle("GET /api/v1/invites/{code}/qr.png", s.handleInviteQR("png"))

	s.handle("POST /api/v1/channels/{id}/media", s.handleUploadMedia)
	s.handle("PUT /api/v1/channels/{id}/avatar", s.handleSetAvatar)
	s.handle("DELETE /api/v1/channels/{id}/avatar", s.handleDeleteAvatar)
	s.handle("GET /media/{id}/{variant}", s.handleMedia)
	s.handle("POST /api/v1/reports", s.handleCreateReport)
	s.handle("GET /api/v1/channels/{id}/moderation", s.handleChannelModeration)
	s.handle("POST /api/v1/channels/{id}/review-requests", s.handleRequestReview)
	s.handle("GET /api/v1/admin/reports", s.handleReportQueue)
	s.handle("GET /api/v1/admin/channels/{id}", s.handleAdminChannel)
	s.handle("GET /api/v1/admin/accounts/{username}", s.handleAdminAccount)
	s.handle("POST /api/v1/admin/actions", s.handleAdminAction)
	s.handle("GET /api/v1/admin/audit", s.handleAuditLog)
	s.handle("GET /api/v1/admin/review-requests", s.handleAdminReviews)
	s.handle("POST /api/v1/channels/{id}/keys", s.idempotent(s.handleCreateKey))
	s.handle("GET /api/v1/channels/{id}/keys", s.handleListKeys)
	s.handle("DELETE /api/v1/channels/{id}/keys/{key_id}", s.handleDeleteKey)

	s.handle("GET /api/v1/events", s.handleEvents)
	s.handle("GET /api/v1/ws", s.handleWebSocket)

	s.handle("GET /api/v1/push/key", s.handlePushKey)
	s.handle("POST /api/v1/push/subscriptions", s.handleSubscribePush)
	s.handle("GET /api/v1/push/subscriptions", s.handleListPush)
	s.handle("DELETE /api/v1/push/subscriptions/{id}", s.handleDeletePush)
}
