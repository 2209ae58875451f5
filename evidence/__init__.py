"""Evidence outsiders can check: signed notes, checkpoints, cosignatures, witnesses, and the bundles a court verifies offline."""
