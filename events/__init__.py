"""Vigil's event-sourced core: catalogue, store, hash chain, projections, risk and personal-data encryption."""
