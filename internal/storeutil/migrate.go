package storeutil

import "errors"

// ErrDevelopmentSchema is returned by a store's Open for a database whose
// schema was written by a development build from before the first release
// (its migrations were squashed into one initial set since): such data is
// not upgraded; start from an empty database or data directory.
var ErrDevelopmentSchema = errors.New("the database was created by a development build of Herald, before the first release; " +
	"its schema is not upgraded: start from an empty database (or data directory)")
