"""Every user's inbox of what they must act on."""
