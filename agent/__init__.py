"""The customer's agent: consent, capture, WebRTC sender, guidance overlays."""
