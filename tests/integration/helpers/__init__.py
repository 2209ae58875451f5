"""What integration test modules share, so that none imports another: helpers and the fixtures they override."""
