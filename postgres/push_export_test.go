package postgres

// PushTargetsQuery exposes the PushTargets statement to the plan test.
const PushTargetsQuery = pushTargetsQuery
