"""Alert rules, subscription matching, outbox and delivery channels (built out by the alerts issue)."""
