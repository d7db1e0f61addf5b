package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml, the OpenAPI 3.0.3 description of every route.
//
//go:embed openapi.yaml
var OpenAPI []byte
