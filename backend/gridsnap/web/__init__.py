"""The installable web app (PWA) built from pwa/, served from the API's own origin."""
