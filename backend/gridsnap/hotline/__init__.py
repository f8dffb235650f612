"""接诉即办: the 12345 hotline — calls taken, callers' personal data, callbacks (回访)."""
