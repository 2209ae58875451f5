"""Evidence outsiders can check: signed notes, checkpoints, cosignatures and witnesses over the event log."""
