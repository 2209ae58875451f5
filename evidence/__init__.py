"""The transparency log's evidence: checkpoints, witnesses, proofs and the bundles a court checks offline."""
