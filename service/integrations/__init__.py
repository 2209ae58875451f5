"""What chat services send back to Vigil (button clicks): verifying them, parsing them, and remembering replays."""
