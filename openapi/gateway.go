package openapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed gateway.yaml
var gatewayYAML []byte

// Gateway loads and validates the gateway's document, stamped with version.
func Gateway(version string) (*openapi3.T, error) {
	l := openapi3.NewLoader()
	doc, err := l.LoadFromData(gatewayYAML)
	if err != nil {
		return nil, fmt.Errorf("openapi: gateway document: %w", err)
	}
	if version != "" {
		doc.Info.Version = version
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: gateway document is invalid: %w", err)
	}
	return doc, nil
}

// GatewayJSON is the gateway's document as served at /api/v1/openapi.json.
func GatewayJSON(version string) ([]byte, error) {
	doc, err := Gateway(version)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}
