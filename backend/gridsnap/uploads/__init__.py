"""How a photo of a case arrives (the PUT of its bytes, the resumable tus upload): above both
photos (which store it) and cases (whose case it marks changed)."""
