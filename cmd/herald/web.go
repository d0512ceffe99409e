package main

import "github.com/heraldhq/herald/web"

// The binary serves the web app at "/" on the API's origin.
func init() { webApp = web.Handler }
