"""The Vigil service: settings, composition root, HTTP API, command line and demo loader."""
